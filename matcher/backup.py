"""Backups of the database content: every table, row by row, in one gzipped JSON-lines file.

The derived indexes are left out (they are rebuilt from the restored rows); the stored vectors are
kept, so a restore does not re-embed. The file is independent of the engine: a SQLite backup
restores into PostgreSQL and the reverse. A restore needs an empty database at the same schema
revision, so it never mixes two states.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from alembic.migration import MigrationContext
from sqlalchemy import Connection, DateTime, Integer, LargeBinary, Table, func, select, text

from matcher.extensions import db

FORMAT = "ess-partner-matcher-backup"
VERSION = 1
CHUNK = 1000


class BackupRefused(ValueError):
    """Raised when a backup cannot be restored here (other format or revision, database not empty)."""


def _revision(connection: Connection) -> str:
    return MigrationContext.configure(connection).get_current_revision() or ""


def _tables() -> list[Table]:
    return list(db.metadata.sorted_tables)


def _dumped(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for column in table.columns:
        value = row[column.name]
        if value is not None and isinstance(column.type, LargeBinary):
            value = base64.b64encode(value).decode("ascii")
        elif isinstance(value, datetime):
            value = value.isoformat()
        values[column.name] = value
    return values


def _loaded(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    row = dict(values)
    for column in table.columns:
        value = row.get(column.name)
        if value is None:
            continue
        if isinstance(column.type, LargeBinary):
            row[column.name] = base64.b64decode(value)
        elif isinstance(column.type, DateTime):
            row[column.name] = datetime.fromisoformat(value)
    return row


def _rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    query = select(table).order_by(*table.primary_key.columns).execution_options(yield_per=CHUNK)
    for row in connection.execute(query).mappings():
        yield _dumped(table, dict(row))


def backup(path: Path, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write every table to `path` (gzipped JSON lines); return the row count of each table."""
    tables = _tables()
    with db.engine.connect() as connection:
        counts = {t.name: connection.scalar(select(func.count()).select_from(t)) or 0 for t in tables}
        header = {
            "format": FORMAT,
            "version": VERSION,
            "revision": _revision(connection),
            "created_at": datetime.now(UTC).isoformat(),
            "tables": counts,
        }
        partial = path.with_name(path.name + ".partial")
        with gzip.open(partial, "wt", encoding="utf-8") as out:
            out.write(json.dumps(header) + "\n")
            for table in tables:
                for row in _rows(connection, table):
                    out.write(json.dumps({"table": table.name, "row": row}, ensure_ascii=False) + "\n")
                    if progress:
                        progress(1)
    partial.replace(path)  # a backup interrupted half-way never takes the name of a complete one
    return counts


def _header(stream: IO[str]) -> dict[str, Any]:
    try:
        header = json.loads(stream.readline())
    except (json.JSONDecodeError, OSError, EOFError, UnicodeDecodeError) as error:
        raise BackupRefused(f"not a backup file: {error}") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise BackupRefused("not a backup file of this application")
    return header


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """PostgreSQL hands out ids from sequences: move them past the restored ids."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        key = list(table.primary_key.columns)
        if len(key) == 1 and isinstance(key[0].type, Integer) and key[0].autoincrement in (True, "auto"):
            column = key[0].name
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                    f"COALESCE((SELECT MAX({column}) FROM {table.name}), 0) + 1, false)"
                )
            )


def revision_of(path: Path) -> str:
    """The schema revision a backup was taken at (to prepare an empty database for it)."""
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        return str(_header(stream)["revision"])


def restore(path: Path, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Load a backup into this (empty, migrated) database in one transaction; return the row counts."""
    tables = {table.name: table for table in _tables()}
    with gzip.open(path, "rt", encoding="utf-8") as stream, db.engine.begin() as connection:
        header = _header(stream)
        if header["revision"] != _revision(connection):
            raise BackupRefused(
                f"the backup is at schema revision {header['revision']}, this database at {_revision(connection)}: "
                "migrate one to the other first"
            )
        if any(connection.scalar(select(func.count()).select_from(t)) for t in tables.values()):
            raise BackupRefused("the database is not empty: restore into a new database")
        counts = dict.fromkeys(tables, 0)
        pending: dict[str, list[dict[str, Any]]] = {}

        def flush(name: str) -> None:
            if pending.get(name):
                connection.execute(tables[name].insert(), pending.pop(name))

        for line in stream:
            record = json.loads(line)
            name = record["table"]
            if name not in tables:
                raise BackupRefused(f"unknown table in the backup: {name}")
            for earlier in [n for n in pending if n != name]:
                flush(earlier)
            pending.setdefault(name, []).append(_loaded(tables[name], record["row"]))
            counts[name] += 1
            if len(pending[name]) >= CHUNK:
                flush(name)
            if progress:
                progress(1)
        for name in list(pending):
            flush(name)
        if counts != {name: header["tables"].get(name, 0) for name in tables}:
            raise BackupRefused("the backup is incomplete: its row counts differ from its header")
        _reset_sequences(connection, list(tables.values()))
    return counts
