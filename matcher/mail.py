"""Outgoing email. SMTP in production; in development and tests every message is written as an
.eml file to a folder (MATCHER_MAIL_FOLDER), where people and tests can read it."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

from flask import current_app


def send(to: str, subject: str, body: str) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MATCHER_MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if config["MATCHER_MAIL_BACKEND"] == "smtp":
        with smtplib.SMTP(config["MATCHER_SMTP_HOST"], config["MATCHER_SMTP_PORT"], timeout=30) as smtp:
            if config["MATCHER_SMTP_STARTTLS"]:
                smtp.starttls()
            if config["MATCHER_SMTP_USER"]:
                smtp.login(config["MATCHER_SMTP_USER"], config["MATCHER_SMTP_PASSWORD"])
            smtp.send_message(message)
    else:
        folder = Path(config["MATCHER_MAIL_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))
    return message
