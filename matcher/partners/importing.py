"""Bulk import: CSV or XLSX rows, a column mapping, a row-level report, one transaction.

Nothing is half-imported: either every valid row is stored in one transaction (when the user
accepts that invalid rows are skipped) or, by default, nothing is stored while any row is invalid.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from openpyxl import load_workbook
from sqlalchemy import select

from matcher.extensions import db
from matcher.partners.models import Organisation
from matcher.partners.operations import build, create_many
from matcher.partners.validation import validate_organisation
from matcher.partners.vocabulary import Source, Status


@dataclass(frozen=True)
class ColumnMapping:
    """Which column feeds which field, and values for fields the file lacks."""

    columns: dict[str, str | list[str]]
    defaults: dict[str, Any] = field(default_factory=dict)
    status: str = Status.PUBLISHED

    @classmethod
    def load(cls, path: Path) -> ColumnMapping:
        raw = json.loads(path.read_text("utf-8"))
        return cls(columns=raw["columns"], defaults=raw.get("defaults", {}), status=raw.get("status", Status.PUBLISHED))

    @classmethod
    def identity(cls, header: list[str]) -> ColumnMapping:
        """Columns named like the fields map to them."""
        return cls(columns={name: name for name in header})

    def apply(self, row: Mapping[str, str]) -> dict[str, Any]:
        data = dict(self.defaults)
        for target, source in self.columns.items():
            sources = [source] if isinstance(source, str) else source
            value = "\n\n".join(str(row[s]).strip() for s in sources if row.get(s) not in (None, ""))
            if value:
                data[target] = value
        return data


@dataclass
class RowError:
    row: int
    field: str
    message: str
    value: str


@dataclass
class ImportReport:
    rows: int = 0
    valid: int = 0
    imported: int = 0
    already_present: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def invalid_rows(self) -> int:
        return len({error.row for error in self.errors})


def read_rows(path: Path) -> tuple[list[str], Iterator[dict[str, str]]]:
    """Header and rows of a CSV (delimiter sniffed, UTF-8) or XLSX file (first sheet)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = [str(cell or "").strip() for cell in next(values, [])]
        rows = (dict(zip(header, ("" if cell is None else str(cell) for cell in row), strict=False)) for row in values)
        return header, rows
    handle = path.open(encoding="utf-8-sig", newline="")
    sample = handle.read(65536)
    handle.seek(0)
    dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
    reader = csv.DictReader(handle, dialect=dialect)
    return list(reader.fieldnames or []), reader


def import_file(
    path: Path,
    mapping: ColumnMapping | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate every row; store the valid ones in one transaction unless an invalid row forbids it."""
    header, rows = read_rows(path)
    mapping = mapping or ColumnMapping.identity(header)
    missing = {s for v in mapping.columns.values() for s in ([v] if isinstance(v, str) else v)} - set(header)
    report = ImportReport()
    if missing:
        report.errors.append(
            RowError(
                1, "header", _("Column(s) missing from the file: %(columns)s.", columns=", ".join(sorted(missing))), ""
            )
        )
        return report
    known = set(db.session.scalars(select(Organisation.source_reference).where(Organisation.source_reference != "")))
    accepted: list[Organisation] = []
    for number, row in enumerate(rows, start=2):
        report.rows += 1
        result = validate_organisation(mapping.apply(row))
        if not result.ok:
            report.errors += [
                RowError(number, name, message, str(result.values.get(name, ""))[:80])
                for name, message in result.errors.items()
            ]
            continue
        report.valid += 1
        reference = result.values["source_reference"]
        if reference and reference in known:
            report.already_present += 1
            continue
        known.add(reference)
        accepted.append(build(result.values, Source.IMPORT, mapping.status))
    if dry_run or (report.errors and not skip_invalid):
        return report
    if accepted:
        create_many(accepted, progress, resumable=True)
    report.imported = len(accepted)
    return report
