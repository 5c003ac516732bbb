"""Export the partner database as CSV or XLSX (public fields; contacts only when asked)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from sqlalchemy import select

from matcher.extensions import db
from matcher.partners.models import Organisation

ADMIN_FIELDS = ("status", "source", "source_reference", "created_at", "updated_at")
CONTACT_FIELDS = ("contact_name", "contact_email")


def export_columns(include_contact: bool) -> tuple[str, ...]:
    return Organisation.PUBLIC_FIELDS + ADMIN_FIELDS + (CONTACT_FIELDS if include_contact else ())


def cell(value: object) -> object:
    """A value as a spreadsheet cell: lists joined with semicolons."""
    return "; ".join(value) if isinstance(value, list) else value


def export_rows(statuses: Iterable[str], include_contact: bool = False) -> Iterable[list[object]]:
    columns = export_columns(include_contact)
    query = select(Organisation).order_by(Organisation.id)
    statuses = list(statuses)
    if statuses:
        query = query.where(Organisation.status.in_(statuses))
    for organisation in db.session.scalars(query.execution_options(yield_per=1000)):
        yield [cell(getattr(organisation, column)) for column in columns]


def write_table(target: BinaryIO, columns: list[str], rows: Iterable[list[object]], kind: str) -> int:
    """Write a header and rows as "xlsx" or "csv" (UTF-8); return the number of rows."""
    count = 0
    if kind == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet("organisations")
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
            count += 1
        book.save(target)
        return count
    text = io.TextIOWrapper(target, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row)
        count += 1
    text.flush()
    text.detach()
    return count


def table_bytes(columns: list[str], rows: Iterable[list[object]], kind: str) -> bytes:
    """A small table (a shortlist, a consortium) as the bytes of a CSV or XLSX download."""
    buffer = io.BytesIO()
    write_table(buffer, columns, rows, kind)
    return buffer.getvalue()


def write_export(path: Path, statuses: Iterable[str] = (), include_contact: bool = False) -> int:
    """Write the file (format from its suffix) and return the number of organisations."""
    kind = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    with path.open("wb") as handle:
        return write_table(handle, list(export_columns(include_contact)), export_rows(statuses, include_contact), kind)
