"""Import: row-level report, nothing half-imported, CSV and XLSX, the ESIF file through a mapping."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from matcher.engine.embedding import from_bytes
from matcher.extensions import db
from matcher.partners import operations
from matcher.partners.importing import ColumnMapping, import_file
from matcher.partners.indexing import index_service
from matcher.partners.models import Organisation
from matcher.partners.vector_cache import PendingVector
from tests.partner_data import DISTRACTORS, TARGETS

MAPPING = Path(__file__).resolve().parents[1] / "docs" / "esif-mapping.json"
HEADER = ["name", "country", "description", "legal_form", "themes"]


def _rows(records: list[dict]) -> list[list[str]]:
    return [
        [r["name"], r["country"], r["description"], r["legal_form"], ";".join(r.get("themes", []))] for r in records
    ]


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


BAD_ROWS = [
    ["", "DE", "Eine Beschreibung, die lang genug ist, um gültig zu sein.", "association", ""],
    ["UK Social Ltd", "GB", "A description that is long enough to be valid here.", "association", ""],
    ["Short", "IT", "troppo breve", "cooperative", ""],
    ["Bad theme", "PL", "Opis, który jest wystarczająco długi, aby był poprawny.", "cooperative", "astrology"],
]


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


def test_bad_rows_are_reported_and_nothing_is_imported(app: Flask, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "orgs.csv", _rows(TARGETS) + BAD_ROWS)
    with app.app_context():
        report = import_file(path)
        assert _count() == 0
    assert report.rows == 7 and report.valid == 3 and report.imported == 0
    errors = {(e.row, e.field): e.message for e in report.errors}
    assert set(errors) == {(5, "name"), (6, "country"), (7, "description"), (8, "themes")}
    assert errors[(6, "country")] == "GB n'est pas un État membre de l'UE."  # French is the default locale
    assert "astrology" in errors[(8, "themes")]


def test_skip_invalid_imports_the_valid_rows_in_one_go(app: Flask, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "orgs.csv", _rows(TARGETS) + BAD_ROWS)
    with app.app_context():
        report = import_file(path, skip_invalid=True)
        assert report.imported == 3 == _count()
        again = import_file(path, skip_invalid=True)
        assert again.already_present == 0 and _count() == 6  # no reference column: rows are new each time


def test_dry_run_changes_nothing(app: Flask, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "orgs.csv", _rows(TARGETS))
    with app.app_context():
        report = import_file(path, dry_run=True)
        assert report.valid == 3 and report.imported == 0 and _count() == 0


def test_xlsx_with_mapping(app: Flask, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Organisation", "Land", "Text", "Rechtsform"])
    for record in DISTRACTORS:
        sheet.append([record["name"], record["country"], record["description"], record["legal_form"]])
    book.save(tmp_path / "orgs.xlsx")
    mapping = ColumnMapping(
        columns={"name": "Organisation", "country": "Land", "description": "Text", "legal_form": "Rechtsform"},
        defaults={"partnership_types": "knowledge_exchange"},
    )
    with app.app_context():
        report = import_file(tmp_path / "orgs.xlsx", mapping)
        assert report.imported == 3
        stored = db.session.scalars(select(Organisation).order_by(Organisation.id)).all()
        assert [o.name for o in stored] == [d["name"] for d in DISTRACTORS]
        assert all(o.partnership_types == ["knowledge_exchange"] and o.description_language == "fr" for o in stored)


def test_missing_mapped_column_is_reported(app: Flask, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "orgs.csv", _rows(TARGETS))
    with app.app_context():
        report = import_file(path, ColumnMapping(columns={"name": "Organisation", "description": "description"}))
        assert report.errors[0].field == "header" and "Organisation" in report.errors[0].message
        assert _count() == 0


def test_cli_import_of_esif_subset_then_search(runner: FlaskCliRunner, esif_path: Path, tmp_path: Path) -> None:
    """A slice of the real ESIF file with the shipped mapping; GB rows are rejected as non-EU."""
    with esif_path.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(itertools.islice(reader, 0, 22703, 90))
        header = reader.fieldnames
    subset = tmp_path / "esif.csv"
    with subset.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    refused = runner.invoke(args=["import", str(subset), "--mapping", str(MAPPING)])
    assert refused.exit_code == 1 and "nothing imported" in refused.output
    result = runner.invoke(args=["import", str(subset), "--mapping", str(MAPPING), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    gb_rows = sum(1 for row in rows if row["country"] == "GB")
    assert f"{len(rows)} rows" in result.output and f"{len(rows) - gb_rows}" in result.output
    found = runner.invoke(
        args=["search", "formation professionnelle des chômeurs de longue durée", "--json", "-k", "5"]
    )
    assert found.exit_code == 0, found.output
    payload = json.loads(found.output)
    assert len(payload) == 5 and all("contact_email" not in item for item in payload)
    assert {item["description_language"] for item in payload} - {"fr"}


class _Interrupted(Exception):
    """Stands for the process being stopped in the middle of an import."""


def test_an_interrupted_import_resumes_without_embedding_again(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import stops after its first chunk: nothing is stored (all rows or none), but the first
    chunk's vectors are kept; run again, it embeds only the rest and leaves no pending vector behind."""
    monkeypatch.setattr(operations, "EMBED_CHUNK", 3)
    path = _write_csv(tmp_path / "partners.csv", _rows(TARGETS + DISTRACTORS))
    with app.app_context():
        embedder = index_service().embedder
        encoded: list[str] = []
        real_encode = embedder.encode
        monkeypatch.setattr(embedder, "encode", lambda texts, role: encoded.extend(texts) or real_encode(texts, role))

        def stop_after_first_chunk(count: int) -> None:
            raise _Interrupted

        with pytest.raises(_Interrupted):
            import_file(path, progress=stop_after_first_chunk)
        db.session.rollback()
        assert _count() == 0
        first_chunk = list(encoded)
        assert first_chunk and db.session.scalar(select(func.count()).select_from(PendingVector)) == len(first_chunk)

        encoded.clear()
        report = import_file(path)
        assert report.imported == len(TARGETS + DISTRACTORS) == _count()
        assert encoded and not set(encoded) & set(first_chunk)
        assert db.session.scalar(select(func.count()).select_from(PendingVector)) == 0
        for organisation in db.session.scalars(select(Organisation)):  # kept vectors are the texts' own
            fresh = real_encode([organisation.description], "passage")[0]
            assert float(from_bytes(organisation.embedding.description) @ fresh) > 0.9999
