"""`matcher alerts send`: mail the new matches of every saved search (run it from cron)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from matcher.alerts.sending import DEPTH, send_alerts


@click.group()
def alerts() -> None:
    """Alerts of the saved searches of staff."""


@alerts.command("send")
@click.option(
    "--base-url",
    envvar="MATCHER_BASE_URL",
    default="",
    help="The site's address for the links in the mails, e.g. https://partners.example.org "
    "(default: SERVER_NAME, else http://localhost).",
)
@click.option("--depth", default=DEPTH, show_default=True, help="How many results of each search are looked at.")
@with_appcontext
def alerts_send(base_url: str, depth: int) -> None:
    """Mail each saved search's owner the organisations published since the last run that match it."""
    with current_app.test_request_context(base_url=base_url or None):
        summary = send_alerts(depth)
    click.echo(summary.line())
    for failure in summary.failures:
        click.echo(f"  {failure}", err=True)
    if summary.failures:
        sys.exit(1)
