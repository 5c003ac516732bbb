"""Imports started from the browser: the file is kept, validated in a preview, then imported in a
background thread whose progress is stored in the database, so any worker can show it.

A running import writes a heartbeat; one whose heartbeat has stopped (its process died) is shown
as interrupted and can be started again: it resumes, since rows whose source_reference is
already stored are skipped.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale, get_locale
from sqlalchemy import JSON, String, Text, update
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import FileStorage

from matcher.extensions import db
from matcher.partners.importing import ColumnMapping, ImportReport, import_file, read_rows
from matcher.partners.models import utcnow

SUFFIXES = (".csv", ".xlsx")
REPORTED_ERRORS = 500
HEARTBEAT_SECONDS = 15
# A running job silent for this long has lost its process.
STALE_AFTER = timedelta(seconds=8 * HEARTBEAT_SECONDS)


class ImportJob(db.Model):
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="uploaded")  # uploaded, running, done, failed
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    skip_invalid: Mapped[bool] = mapped_column(default=False)
    embedded: Mapped[int] = mapped_column(default=0)
    to_embed: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    failure: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    # The interface language of whoever started it: the background thread words row errors in it.
    locale: Mapped[str] = mapped_column(String(16), default="", server_default="")

    @property
    def state(self) -> str:
        """The status, with "interrupted" for a running job whose heartbeat has stopped."""
        if self.status == "running" and (self.heartbeat_at or self.created_at) < utcnow() - STALE_AFTER:
            return "interrupted"
        return self.status

    @property
    def startable(self) -> bool:
        return self.state != "running"

    def header(self) -> list[str]:
        return read_rows(Path(self.stored_path))[0]


def store_upload(upload: FileStorage, actor: str) -> ImportJob:
    suffix = Path(upload.filename or "").suffix.lower()
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    upload.save(path)
    job = ImportJob(filename=Path(upload.filename or "upload").name[:255], stored_path=str(path), created_by=actor)
    db.session.add(job)
    db.session.commit()
    return job


def report_dict(report: ImportReport) -> dict[str, Any]:
    return {
        "rows": report.rows,
        "valid": report.valid,
        "imported": report.imported,
        "already_present": report.already_present,
        "invalid_rows": report.invalid_rows,
        "errors": [asdict(error) for error in report.errors[:REPORTED_ERRORS]],
        "errors_total": len(report.errors),
    }


def preview(job: ImportJob, mapping: ColumnMapping) -> dict[str, Any]:
    """Validate every row without storing anything."""
    return report_dict(import_file(Path(job.stored_path), mapping, dry_run=True))


def start(job: ImportJob, mapping: ColumnMapping, skip_invalid: bool) -> threading.Thread:
    job.mapping = {"columns": mapping.columns, "defaults": mapping.defaults, "status": mapping.status}
    job.skip_invalid, job.status, job.failure, job.heartbeat_at = skip_invalid, "running", "", utcnow()
    job.locale = str(get_locale() or "")
    db.session.commit()
    thread = threading.Thread(
        target=_run, args=(current_app._get_current_object(), job.id), name=f"import-{job.id}", daemon=True
    )
    thread.start()
    return thread


def _progress(job_id: int) -> Any:
    """Counts embedded rows in its own short transaction (the import's transaction is still open)."""

    def advance(count: int) -> None:
        with db.engine.begin() as connection:
            connection.execute(
                update(ImportJob).where(ImportJob.id == job_id).values(embedded=ImportJob.embedded + count)
            )

    return advance


def _beat(app: Flask, job_id: int, stopped: threading.Event) -> None:
    """Marks the job alive every few seconds until the import ends."""
    with app.app_context():
        while not stopped.wait(HEARTBEAT_SECONDS):
            with db.engine.begin() as connection:
                connection.execute(update(ImportJob).where(ImportJob.id == job_id).values(heartbeat_at=utcnow()))


def _run(app: Flask, job_id: int) -> None:
    stopped = threading.Event()
    threading.Thread(target=_beat, args=(app, job_id, stopped), name=f"import-{job_id}-heartbeat", daemon=True).start()
    try:
        with app.app_context():
            locale = db.session.get(ImportJob, job_id).locale
        _import(app, job_id, locale)
    finally:
        stopped.set()


def _import(app: Flask, job_id: int, locale: str) -> None:
    with app.app_context(), force_locale(locale or app.config["BABEL_DEFAULT_LOCALE"]):
        job = db.session.get(ImportJob, job_id)
        assert job is not None
        mapping = ColumnMapping(
            columns=job.mapping["columns"], defaults=job.mapping["defaults"], status=job.mapping["status"]
        )
        try:
            checked = import_file(Path(job.stored_path), mapping, dry_run=True)
            job.to_embed = checked.valid - checked.already_present
            db.session.commit()
            report = import_file(Path(job.stored_path), mapping, job.skip_invalid, progress=_progress(job_id))
        except Exception as error:
            app.logger.exception("import %s failed", job_id)
            db.session.rollback()
            job = db.session.get(ImportJob, job_id)
            job.status, job.failure, job.finished_at = "failed", str(error)[:2000], utcnow()
            db.session.commit()
            return
        job = db.session.get(ImportJob, job_id)
        job.report, job.status, job.finished_at = report_dict(report), "done", utcnow()
        db.session.commit()
