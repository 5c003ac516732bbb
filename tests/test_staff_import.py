"""Import and export in the browser: upload, map columns, preview the row report, import in the
background; exports as CSV, XLSX and the ESSGlobal column set."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from matcher.extensions import db
from matcher.partners.essglobal import COLUMNS as ESSGLOBAL_COLUMNS
from matcher.partners.models import Organisation, utcnow
from matcher.partners.operations import create_organisation
from matcher.partners.vocabulary import Status
from matcher.staff.accounts import create_staff
from matcher.staff.import_jobs import STALE_AFTER, ImportJob
from tests.partner_data import TARGETS
from tests.web import csrf_token, page_text, submit, translated

PASSWORD = "correct horse battery staple"
ROWS = [
    {
        "Organisation": "Kooperative Grünes Rad",
        "Land": "AT",
        "Text": "Wir reparieren Fahrräder mit Langzeitarbeitslosen in Graz und verkaufen sie günstig.",
        "Ref": "r1",
    },
    {
        "Organisation": "Cooperativa Verde",
        "Land": "IT",
        "Text": "Cooperativa sociale che gestisce orti urbani con persone con disabilità a Torino.",
        "Ref": "r2",
    },
    {
        "Organisation": "Nowhere Ltd",
        "Land": "GB",
        "Text": "A company in the United Kingdom, which is not an EU member state any more.",
        "Ref": "r3",
    },
]
MAPPING = {
    "column_name": "Organisation",
    "column_country": "Land",
    "column_description": "Text",
    "column_source_reference": "Ref",
    "status": "published",
    "default_legal_form": "cooperative",
}


def _sign_in(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        create_staff("staff@cress.example", PASSWORD)
    submit(client, "/staff/login", {"email": "staff@cress.example", "password": PASSWORD})


def _upload(client: FlaskClient, path: Path) -> str:
    with path.open("rb") as handle:
        response = client.post(
            "/staff/import",
            data={"csrf_token": csrf_token(client, "/staff/import"), "file": (handle, path.name)},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return response.headers["Location"]


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _wait(app: Flask, url: str, timeout: float = 600) -> ImportJob:
    job_id = int(url.rsplit("/", 1)[1])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            job = db.session.get(ImportJob, job_id)
            if job.status in ("done", "failed"):
                return job
        time.sleep(0.5)
    raise AssertionError("import did not finish")


def _count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Organisation))


def test_preview_reports_each_bad_row_and_stores_nothing(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    _sign_in(app, client)
    url = _upload(client, _csv(tmp_path / "network.csv", ROWS))
    page = client.get(url).get_data(as_text=True)
    assert 'value="Organisation"' in page and "network.csv" in page
    preview = client.post(url, data={"csrf_token": csrf_token(client, url), "action": "preview", **MAPPING})
    text = page_text(preview)
    assert translated(app, "Valid rows: %(num)d", num=2) in text
    assert translated(app, "%(code)s is not an EU member state.", code="GB") in text
    assert _count(app) == 0


def test_import_stores_nothing_while_a_row_is_invalid_unless_asked(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    _sign_in(app, client)
    url = _upload(client, _csv(tmp_path / "network.csv", ROWS))
    client.post(url, data={"csrf_token": csrf_token(client, url), "action": "import", **MAPPING})
    job = _wait(app, url)
    assert job.status == "done" and job.report["imported"] == 0 and job.report["invalid_rows"] == 1
    assert _count(app) == 0
    client.post(url, data={"csrf_token": csrf_token(client, url), "action": "import", "skip_invalid": "y", **MAPPING})
    job = _wait(app, url)
    assert job.report["imported"] == 2 and job.embedded == 2 and job.to_embed == 2
    with app.app_context():
        stored = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
        assert [(o.name, o.status, o.legal_form, o.source) for o in stored] == [
            ("Cooperativa Verde", "published", "cooperative", "import"),
            ("Kooperative Grünes Rad", "published", "cooperative", "import"),
        ]
    assert translated(app, "Imported: %(num)d", num=2) in page_text(client.get(url))


def test_the_esif_file_imports_through_the_browser_with_a_mapping(
    app: Flask, client: FlaskClient, tmp_path: Path, esif_path: Path
) -> None:
    with esif_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [row for _, row in zip(range(40), reader, strict=False)]
    _sign_in(app, client)
    url = _upload(client, _csv(tmp_path / "operations.csv", rows))
    mapping = {
        "column_name": "beneficiary",
        "column_country": "country",
        "column_region": "region",
        "column_description": "summary",
        "column_description_language": "language",
        "column_source_reference": "id",
        "status": "published",
        "default_legal_form": "other",
    }
    client.post(url, data={"csrf_token": csrf_token(client, url), "action": "import", "skip_invalid": "y", **mapping})
    job = _wait(app, url)
    assert job.status == "done", job.failure
    assert job.report["imported"] + job.report["invalid_rows"] == 40 and job.report["imported"] >= 30
    assert _count(app) == job.report["imported"]
    client.post(url, data={"csrf_token": csrf_token(client, url), "action": "import", "skip_invalid": "y", **mapping})
    again = _wait(app, url)
    assert again.report["imported"] == 0 and again.report["already_present"] == job.report["imported"]


def test_row_errors_of_a_background_import_are_worded_in_the_language_of_who_started_it(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    _sign_in(app, client)
    url = _upload(client, _csv(tmp_path / "network.csv", ROWS))
    client.post(f"{url}?lang=en", data={"csrf_token": csrf_token(client, url), "action": "import", **MAPPING})
    job = _wait(app, url)
    assert [error["message"] for error in job.report["errors"]] == ["GB is not an EU member state."]
    client.post(f"{url}?lang=de", data={"csrf_token": csrf_token(client, url), "action": "import", **MAPPING})
    job = _wait(app, url)
    assert [error["message"] for error in job.report["errors"]] == [
        translated(app, "%(code)s is not an EU member state.", locale="de", code="GB")
    ]


def test_an_import_whose_process_died_shows_as_interrupted_and_resumes(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    _sign_in(app, client)
    url = _upload(client, _csv(tmp_path / "network.csv", ROWS[:2]))
    job_id = int(url.rsplit("/", 1)[1])
    with app.app_context():
        create_organisation(
            {
                "name": "Kooperative Grünes Rad",
                "country": "AT",
                "description": ROWS[0]["Text"],
                "source_reference": "r1",
            }
        )
        job = db.session.get(ImportJob, job_id)
        job.status, job.heartbeat_at = "running", utcnow() - STALE_AFTER - timedelta(seconds=1)
        db.session.commit()
    page = page_text(client.get(url))
    assert translated(app, "interrupted (start it again to resume)") in page
    client.post(url, data={"csrf_token": csrf_token(client, url), "action": "import", **MAPPING})
    job = _wait(app, url)
    assert job.status == "done" and job.report["imported"] == 1 and job.report["already_present"] == 1
    assert _count(app) == 2


def test_exports_as_csv_xlsx_and_essglobal_without_contacts_unless_asked(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        create_organisation(
            {**TARGETS[0], "contact_email": "jana@radwerk.example", "contact_name": "Jana"}, status=Status.PUBLISHED
        )
    _sign_in(app, client)
    plain = client.get("/staff/export/download", query_string={"format": "csv", "status": "published"})
    rows = list(csv.DictReader(io.StringIO(plain.get_data(as_text=True))))
    assert rows[0]["name"] == "Radwerk Leipzig" and "contact_email" not in rows[0]
    book = load_workbook(io.BytesIO(client.get("/staff/export/download", query_string={"format": "xlsx"}).data))
    assert book.worksheets[0]["B2"].value == "Radwerk Leipzig"
    essglobal = client.get("/staff/export/download", query_string={"format": "essglobal", "include_contact": "y"})
    rows = list(csv.DictReader(io.StringIO(essglobal.get_data(as_text=True))))
    assert tuple(rows[0]) == ESSGLOBAL_COLUMNS
    assert rows[0]["Name"] == "Radwerk Leipzig" and rows[0]["Country ID"] == "DE"
    assert rows[0]["Organisational Structure"] == "OS30" and rows[0]["Activities"] == "ICA190;ICA280"
    assert rows[0]["Email"] == "jana@radwerk.example"


def test_staff_may_upload_files_larger_than_other_requests(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    rows = [{**ROWS[0], "Ref": f"r{i}", "Text": ROWS[0]["Text"] * 3} for i in range(400)]
    big = _csv(tmp_path / "big.csv", rows)
    assert big.stat().st_size > 100_000
    with big.open("rb") as handle:
        anonymous = client.post("/staff/import", data={"file": (handle, "big.csv")}, content_type="multipart/form-data")
    assert anonymous.status_code == 413
    _sign_in(app, client)
    assert "/staff/import/" in _upload(client, big)


def test_sqlite_runs_in_write_ahead_log_mode_so_pages_read_during_an_import(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite only")
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
