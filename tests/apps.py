"""Apps for tests: one on a migrated database, and another process's view of the same data."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text

from matcher import create_app
from matcher.extensions import db
from matcher.partners import migrations

# The PostgreSQL database the suite runs on in CI's second pass; SQLite files otherwise.
POSTGRES_URL = os.environ.get("MATCHER_TEST_DATABASE_URL", "")

# What a second process on the same database and index file is configured with.
SHARED_SETTINGS = (
    "TESTING",
    "SQLALCHEMY_DATABASE_URI",
    "MATCHER_MODEL",
    "MATCHER_INDEX_PATH",
    "MATCHER_CENTERING_PATH",
    "MATCHER_EMBED_BACKEND",
)


def fresh_database(folder: Path, name: str = "test.sqlite3") -> str:
    """The URL of an empty database: the PostgreSQL one emptied, or a new SQLite file in folder."""
    if not POSTGRES_URL:
        return f"sqlite:///{folder / name}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return POSTGRES_URL


def make_app(
    database_url: str, folder: Path, model_path: Path, centering_path: Path, **settings: object
) -> Iterator[Flask]:
    """An app on a migrated database, disposed of afterwards (for fixtures of any scope)."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MATCHER_MODEL": str(model_path),
            "MATCHER_INDEX_PATH": str(folder / "index.npz"),
            "MATCHER_CENTERING_PATH": str(centering_path),
            **settings,
        }
    )
    with app.app_context():
        migrations.upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def another_process(app: Flask) -> Flask:
    """A new process's view: a fresh app on the same database and index file."""
    return create_app({key: app.config[key] for key in SHARED_SETTINGS})


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on now (for servers the tests start)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
