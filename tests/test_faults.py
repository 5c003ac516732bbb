"""Faults survived: the database going away and coming back, a process killed while writing the index,
vectors left by another model.

The outage is made with a TCP relay between the app and PostgreSQL that the test cuts and restores
(the database server itself is shared with other test runs, so it is not stopped).
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from matcher.engine.index import IndexBundle, VectorIndex
from matcher.extensions import db
from matcher.partners.indexing import index_service
from matcher.partners.models import Embedding, Organisation
from tests.apps import free_port, make_app
from tests.partner_data import TARGETS
from tests.test_api import _token
from tests.web import publish_partners

POSTGRES = ("127.0.0.1", 5432)


class Relay:
    """Forwards TCP connections to PostgreSQL until it is cut; can be restored on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                end.close()

    def cut(self) -> None:
        """Refuse new connections and drop the open ones, as when the database host goes away."""
        for end in [self._listener] if self._listener is not None else []:
            end.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept (close alone does not)
            end.close()
        self._listener = None
        for end in self._sockets:
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()
        self._sockets.clear()


def _postgres_available() -> bool:
    try:
        with socket.create_connection(POSTGRES, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture()
def outage_app(tmp_path: Path, model_path: Path, centering_path: Path) -> Iterator[tuple[Flask, Relay]]:
    """An app on its own PostgreSQL database, reached through a relay the test can cut."""
    if not _postgres_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"matcher_outage_{uuid.uuid4().hex[:8]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    relay = Relay(POSTGRES)
    relay.start()
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{relay.port}/{name}"
        app_iterator = make_app(url, tmp_path, model_path, centering_path)
        yield next(app_iterator), relay
        relay.cut()
        relay.start()
        next(app_iterator, None)
    finally:
        relay.cut()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_database_outage_gives_a_clear_503_and_the_service_recovers_with_nothing_lost(
    outage_app: tuple[Flask, Relay],
) -> None:
    app, relay = outage_app
    publish_partners(app)
    client: FlaskClient = app.test_client()
    auth = {"Authorization": f"Bearer {_token(app, 'write')}"}
    assert client.get("/search", query_string={"q": "vélo"}).status_code == 200
    before = client.get("/api/v1/organisations").get_json()["total"]

    relay.cut()
    page = client.get("/search", query_string={"q": "vélo"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "Erreur 503" in page.get_data(as_text=True)
    problem = client.get("/api/v1/organisations", headers={"Accept-Language": "en"})
    assert problem.status_code == 503 and problem.mimetype == "application/problem+json"
    assert problem.get_json()["title"] == "The service is briefly unavailable."
    refused = client.post("/api/v1/organisations", json={**TARGETS[1], "name": "Während des Ausfalls"}, headers=auth)
    assert refused.status_code == 503

    relay.start()
    assert client.get("/search", query_string={"q": "vélo"}).status_code == 200
    assert client.get("/api/v1/organisations").get_json()["total"] == before
    created = client.post("/api/v1/organisations", json={**TARGETS[1], "name": "Nach dem Ausfall"}, headers=auth)
    assert created.status_code == 201
    with app.app_context():
        names = set(db.session.scalars(select(Organisation.name)))
        assert "Nach dem Ausfall" in names and "Während des Ausfalls" not in names
        assert index_service().check().ok


WRITER = """
import sys, numpy as np
from pathlib import Path
from matcher.engine.index import IndexBundle, VectorIndex
path, n = Path(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
vectors = rng.standard_normal((n, 64), dtype=np.float32)
vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
index = VectorIndex.build(64, np.arange(n, dtype=np.int64), vectors, approx_threshold=10**9)
watermark = 0
while True:
    watermark += 1
    IndexBundle(dim=64, model_id="m", watermark=watermark, fields={"description": index}).save(path)
    print(watermark, flush=True)
"""


def test_a_process_killed_while_writing_its_index_leaves_a_whole_one(tmp_path: Path) -> None:
    """A writer saves the index again and again and is killed at random moments: the file on disk
    always loads whole (the last complete save), never a half-written one."""
    path = tmp_path / "index.npz"
    size = 200_000  # about 50 MB a save: a kill lands mid-write often
    generator = random.Random(7)
    for _attempt in range(5):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(size)],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[1],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
        assert writer.stdout is not None
        writer.stdout.readline()  # one save is complete
        time.sleep(generator.uniform(0.0, 0.5))
        writer.kill()
        writer.wait()
        bundle = IndexBundle.load(path)
        assert bundle.watermark >= 1 and len(bundle.field("description")) == size
        found = bundle.field("description").search(np.eye(64, dtype=np.float32)[0], 1)
        assert len(found) == 1
    assert isinstance(bundle.field("description"), VectorIndex)


def test_vectors_of_another_model_are_detected_and_the_collection_re_embedded(app: Flask) -> None:
    """After a model change the stored vectors belong to the old model: they are never mixed into the
    index, `matcher index check` says so, and `--repair` (run by `make run`) re-embeds them."""
    publish_partners(app)
    runner = app.test_cli_runner()
    with app.app_context():
        current = db.session.scalars(select(Embedding.model_id)).first()
        db.session.execute(update(Embedding).values(model_id="an-older-model@0123"))
        db.session.commit()
        index_service().rebuild()
        assert len(index_service().bundle.field("description")) == 0  # old vectors stay out
    report = json.loads(runner.invoke(args=["index", "check"]).output)
    assert report["ok"] is False and report["stale_embeddings"] == len(TARGETS) + 1
    assert runner.invoke(args=["index", "check", "--repair"]).exit_code == 0
    assert json.loads(runner.invoke(args=["index", "check"]).output)["ok"] is True
    with app.app_context():
        assert set(db.session.scalars(select(Embedding.model_id))) == {current}
        assert len(index_service().bundle.field("description")) == len(TARGETS) + 1
