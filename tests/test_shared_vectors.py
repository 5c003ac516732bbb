"""Query vectors shared through Redis: a text embedded by one worker is not embedded again by
another; vectors of another model are never taken; a cache that is down costs nothing but speed."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
from flask import Flask

from matcher.engine.shared_vectors import SharedVectors
from matcher.partners.indexing import index_service
from tests.apps import fresh_database, make_app
from tests.web import publish_partners

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture()
def cached_app(tmp_path: Path, model_path: Path, centering_path: Path) -> Iterator[Flask]:
    if not _redis_available():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    yield from make_app(
        fresh_database(tmp_path), tmp_path, model_path, centering_path, MATCHER_VECTOR_CACHE_URL=REDIS_URL
    )


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=384).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_a_match_leaves_its_query_vector_for_every_other_worker(cached_app: Flask) -> None:
    publish_partners(cached_app)
    description = f"Coopérative d'insertion qui répare des vélos et forme des mécaniciens ({uuid.uuid4().hex})"
    client = cached_app.test_client()
    response = client.post("/api/v1/match", json={"profile": {"country": "FR", "description": description}})
    assert response.status_code == 200 and response.get_json()["results"]
    with cached_app.app_context():
        service = index_service()
        shared = service.shared_vectors
        assert shared is not None
        stored = shared.get("query", [description])[description]
        assert np.allclose(stored, service.embedder.encode([description], "query")[0], atol=1e-6)
        # What another worker reads: the shared vector, not one computed again (put there by hand).
        text = f"texte jamais embarqué {uuid.uuid4().hex}"
        planted = _unit(1)
        shared.put("query", {text: planted})
        assert np.array_equal(service.query_vectors([text, description]), np.stack([planted, stored]))
        assert np.array_equal(service.embedder.cached([text], "query")[text], planted)  # kept in the process
        # A text this process embedded itself is not asked of the cache (which holds another vector here).
        own = f"texte de ce processus {uuid.uuid4().hex}"
        computed = service.embedder.encode([own], "query")[0]
        shared.put("query", {own: _unit(3)})
        assert np.array_equal(service.query_vectors([own])[0], computed)
        redis.Redis.from_url(REDIS_URL).delete(*(shared.key("query", t) for t in (text, description, own)))


def test_vectors_of_another_model_or_role_are_not_taken() -> None:
    if not _redis_available():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    text = f"eine Genossenschaft {uuid.uuid4().hex}"
    one, other = SharedVectors(REDIS_URL, "model-a"), SharedVectors(REDIS_URL, "model-b")
    one.put("query", {text: _unit(2)})
    try:
        assert np.array_equal(one.get("query", [text])[text], _unit(2))
        assert other.get("query", [text]) == {} and one.get("passage", [text]) == {}
    finally:
        redis.Redis.from_url(REDIS_URL).delete(one.key("query", text))


def test_an_unreachable_cache_is_skipped_and_not_asked_again_at_once(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    down = SharedVectors(f"redis://127.0.0.1:{port}/0", "model-a")
    down.put("query", {"texte": _unit(3)})
    assert down.get("query", ["texte"]) == {}
    assert len([r for r in caplog.records if "shared vector cache unavailable" in r.getMessage()]) == 1
