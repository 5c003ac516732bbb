"""The int8 ONNX backend: close to the float32 model, independent of batching, matching still
cross-lingual, and switching to it re-embeds the collection (its vectors carry their own model id)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import select

from matcher.engine.embedding import Embedder, shared_embedder
from matcher.engine.onnx_int8 import build_onnx_int8
from matcher.extensions import db
from matcher.matching import match
from matcher.partners.indexing import index_service
from matcher.partners.models import Embedding
from tests.apps import fresh_database, make_app
from tests.language_offsets import OFFSETS
from tests.partner_data import DISTRACTORS, TARGETS
from tests.test_matching import PROFILE, _seed

TEXTS = [
    "Coopérative d'insertion cherche partenaires pour un projet de recyclage textile.",
    "Genossenschaft für erneuerbare Energien sucht Partner für Bürgerwindparks in Österreich.",
    "Cooperativa sociale di tipo B che gestisce il verde pubblico e l'agricoltura sociale.",
    "Spółdzielnia socjalna prowadzi kawiarnię zatrudniającą osoby długotrwale bezrobotne.",
    "Κοινωνική συνεταιριστική επιχείρηση που απασχολεί άτομα με αναπηρία σε αρτοποιείο.",
    "Sociální podnik provozuje prádelnu a zaměstnává lidi se zdravotním postižením. " * 12,
]


@pytest.fixture(scope="module")
def int8(model_path: Path) -> Embedder:
    build_onnx_int8(model_path)
    return shared_embedder(str(model_path), backend="onnx-int8")


@pytest.fixture()
def int8_app(tmp_path: Path, model_path: Path, int8: Embedder) -> Iterator[Flask]:
    # its own language offsets: they are fitted per model id, and this backend has another
    yield from make_app(
        fresh_database(tmp_path), tmp_path, model_path, OFFSETS["onnx-int8"], MATCHER_EMBED_BACKEND="onnx-int8"
    )


@pytest.mark.parametrize("role", ["query", "passage"])
def test_int8_vectors_stay_close_to_the_float32_ones(model_path: Path, int8: Embedder, role: str) -> None:
    exact = shared_embedder(str(model_path)).encode(TEXTS, role)
    cosines = (int8.encode(TEXTS, role) * exact).sum(axis=1)
    # measured 0.9985-0.9992; every product quantised without smoothing: mean 0.996, min 0.992
    assert cosines.min() > 0.997, cosines
    assert cosines.mean() > 0.998, cosines


def test_an_int8_vector_does_not_depend_on_the_texts_encoded_with_it(model_path: Path) -> None:
    together = Embedder(str(model_path), backend="onnx-int8").encode(TEXTS, "passage")
    alone = np.stack([Embedder(str(model_path), backend="onnx-int8").encode([t], "passage")[0] for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_int8_vectors_have_their_own_model_id(model_path: Path, int8: Embedder) -> None:
    exact_id = shared_embedder(str(model_path)).model_id
    assert int8.model_id != exact_id and int8.model_id.startswith(f"{exact_id}+int8@")


def test_unknown_backend_is_refused(model_path: Path) -> None:
    with pytest.raises(ValueError, match="onnx-int8"):
        Embedder(str(model_path), backend="tensorrt")


def test_french_profile_finds_the_same_activity_abroad_with_int8(int8_app: Flask) -> None:
    with int8_app.app_context():
        _seed()
        names = [r.organisation.name for r in match(PROFILE, k=10)]
    assert set(names[:3]) == {t["name"] for t in TARGETS}, names
    assert set(names[3:]) == {d["name"] for d in DISTRACTORS}


def test_switching_to_int8_re_embeds_the_collection(app: Flask, int8: Embedder) -> None:
    """Vectors stored by the float32 model are another model's for the int8 backend: reported by
    `index check` and re-embedded by `--repair`, never mixed into its index."""
    with app.app_context():
        published = len(_seed()) - 1  # all but the pending one
    switched_app = contextmanager(make_app)(
        app.config["SQLALCHEMY_DATABASE_URI"],
        Path(app.config["MATCHER_INDEX_PATH"]).parent / "int8",
        Path(app.config["MATCHER_MODEL"]),
        OFFSETS["onnx-int8"],
        MATCHER_EMBED_BACKEND="onnx-int8",
    )
    with switched_app as switched:
        runner = switched.test_cli_runner()
        report = json.loads(runner.invoke(args=["index", "check"]).output)
        assert report["ok"] is False and report["stale_embeddings"] >= published
        assert runner.invoke(args=["index", "check", "--repair"]).exit_code == 0
        assert json.loads(runner.invoke(args=["index", "check"]).output)["ok"] is True
        with switched.app_context():
            assert set(db.session.scalars(select(Embedding.model_id))) == {int8.model_id}
            assert len(index_service().bundle.field("description")) == published
