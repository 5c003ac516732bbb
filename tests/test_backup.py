"""`matcher backup` and `matcher restore`: every row comes back, on another engine too, the index is
rebuilt from the restored rows, and a restore never mixes two databases."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from matcher.api.tokens import create_token
from matcher.extensions import db
from matcher.introductions.operations import request_introduction
from matcher.matching import Profile, match
from matcher.partners.models import Organisation
from matcher.partners.operations import create_organisation
from matcher.staff.accounts import create_staff
from tests.apps import make_app
from tests.partner_data import QUERY_FR, TARGETS
from tests.web import publish_partners


def _rows(path: Path) -> list[str]:
    """The backup's rows (its header, with the time it was taken, left out)."""
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        return sorted(stream.readlines()[1:])


def _fresh(tmp_path: Path, name: str, model_path: Path, centering_path: Path) -> Flask:
    """An app on a new, empty SQLite database."""
    folder = tmp_path / name
    folder.mkdir()
    return next(make_app(f"sqlite:///{folder / 'new.sqlite3'}", folder, model_path, centering_path))


def _fill(app: Flask) -> None:
    publish_partners(app)
    with app.app_context():
        staff = create_staff("staff@cress.example", "correct horse battery staple")
        create_token(staff, "network map", "read", "60 per minute")
        requester = create_organisation({**QUERY_FR, "name": "Atelier Vélo", "contact_email": "a@velo.example"})
        target = db.session.scalars(select(Organisation).where(Organisation.name == "Radwerk Leipzig")).one()
        request_introduction(requester, target, "Bonjour")


def test_a_backup_restores_every_row_into_a_new_database_and_the_index_follows(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, model_path: Path, centering_path: Path
) -> None:
    _fill(app)
    backup = tmp_path / "backup.jsonl.gz"
    result = runner.invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    # a new SQLite database (in the PostgreSQL pass, the backup comes from PostgreSQL)
    restored_app = _fresh(tmp_path, "restored", model_path, centering_path)
    restored = restored_app.test_cli_runner().invoke(args=["restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    again = tmp_path / "again.jsonl.gz"
    assert restored_app.test_cli_runner().invoke(args=["backup", str(again)]).exit_code == 0
    assert _rows(again) == _rows(backup)
    tables = {json.loads(line)["table"] for line in _rows(backup)}
    assert {"organisations", "embeddings", "audit_entries", "staff_users", "api_tokens", "introduction_requests"} <= (
        tables
    )
    with restored_app.app_context():
        found = match(Profile(description=QUERY_FR["description"], country="FR"), k=3)
        assert {r.organisation.name for r in found} >= {"Radwerk Leipzig"}
        newcomer = create_organisation({**TARGETS[0], "name": "Neu nach der Wiederherstellung"})
        assert newcomer.id > max(o.id for o in db.session.scalars(select(Organisation)) if o is not newcomer)


def test_a_restore_refuses_a_database_that_is_not_empty_and_a_file_that_is_not_a_backup(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, model_path: Path, centering_path: Path
) -> None:
    _fill(app)
    backup = tmp_path / "backup.jsonl.gz"
    runner.invoke(args=["backup", str(backup)])
    refused = runner.invoke(args=["restore", str(backup)])
    assert refused.exit_code != 0 and "not empty" in refused.output
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"not a backup")
    assert "not a backup file" in runner.invoke(args=["restore", str(broken)]).output
    truncated = tmp_path / "truncated.jsonl.gz"
    with gzip.open(backup, "rt", encoding="utf-8") as stream:
        lines = stream.readlines()
    with gzip.open(truncated, "wt", encoding="utf-8") as out:
        out.writelines(lines[: len(lines) // 2])
    empty = _fresh(tmp_path, "empty", model_path, centering_path)
    incomplete = empty.test_cli_runner().invoke(args=["restore", str(truncated)])
    assert incomplete.exit_code != 0 and "incomplete" in incomplete.output
    with empty.app_context():
        assert db.session.scalars(select(Organisation.id)).all() == []  # one transaction: nothing half-restored
