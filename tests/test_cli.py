"""The `matcher` command end to end on the example data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from openpyxl import load_workbook

from matcher.partners.examples import example_records


def _load(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["examples", "load", "--if-empty"])
    assert result.exit_code == 0 and f"{len(example_records())} example" in result.output, result.output


def test_example_data_is_varied_and_loads_once(runner: FlaskCliRunner) -> None:
    records = example_records()
    assert len(records) >= 150
    assert len({r["country"] for r in records}) >= 12
    _load(runner)
    again = runner.invoke(args=["examples", "load", "--if-empty"])
    assert "0 example" in again.output


def test_db_upgrade_is_idempotent(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "init"]).exit_code == 0


def test_match_by_id_as_json_excludes_own_country(app: Flask, runner: FlaskCliRunner) -> None:
    _load(runner)
    result = runner.invoke(args=["match", "--id", "1", "--json", "-k", "5"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    home = example_records()[0]["country"]
    assert len(payload) == 5 and all(item["country"] != home for item in payload)
    assert all({"score", "shared_themes", "best_part"} <= set(item["explanation"]) for item in payload)
    assert all("contact_email" not in item and "contact_name" not in item for item in payload)


def test_search_with_filters(runner: FlaskCliRunner) -> None:
    _load(runner)
    result = runner.invoke(
        args=["search", "coopérative d'énergie renouvelable citoyenne", "--country", "DE", "--country", "ES", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload and {item["country"] for item in payload} <= {"DE", "ES"}
    assert "energy" in payload[0]["themes"]
    text = runner.invoke(args=["search", "coopérative d'énergie renouvelable citoyenne", "-k", "3"])
    assert text.exit_code == 0 and text.output.startswith(" 1. ")


def test_export_hides_contacts_unless_asked(runner: FlaskCliRunner, tmp_path: Path) -> None:
    _load(runner)
    assert runner.invoke(args=["export", str(tmp_path / "public.csv")]).exit_code == 0
    with (tmp_path / "public.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(example_records()) and "contact_email" not in rows[0]
    assert runner.invoke(args=["export", str(tmp_path / "staff.xlsx"), "--include-contact"]).exit_code == 0
    sheet = load_workbook(tmp_path / "staff.xlsx").worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert "contact_email" in header and sheet.max_row == len(example_records()) + 1


def test_index_check_and_repair(app: Flask, runner: FlaskCliRunner) -> None:
    _load(runner)
    assert runner.invoke(args=["index", "rebuild"]).exit_code == 0
    assert json.loads(runner.invoke(args=["index", "check"]).output)["ok"] is True
    Path(app.config["MATCHER_INDEX_PATH"]).write_bytes(b"not an index")
    broken = runner.invoke(args=["index", "check"])
    assert broken.exit_code == 1 and json.loads(broken.output)["snapshot_usable"] is False
    assert runner.invoke(args=["index", "check", "--repair"]).exit_code == 0
    assert json.loads(runner.invoke(args=["index", "check"]).output)["ok"] is True
