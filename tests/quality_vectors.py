"""Embed the quality slice's texts once, before a test run, and keep the vectors in .make/.

tests/test_quality.py loads about 1,500 ESIF summaries into a fresh database, which embeds them. CI's
two passes (SQLite and PostgreSQL, side by side, one thread each) each embedded the same texts, eight
minutes a pass on a slower machine. Embedded here first, on every core, they are computed once; each
pass puts them in its embedder's cache of recent texts, where the app's own embedding finds them.
The file names the model that computed them: another model's vectors are computed anew.

Run: .venv/bin/python -m tests.quality_vectors (part of make test-prep)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from bench.eval_quality import ESIF, corpus_and_queries
from matcher.config import load_config
from matcher.engine.embedding import ROLES, Embedder, Role, shared_embedder
from tests.language_offsets import FOLDER

VECTORS = FOLDER / "test-quality-vectors.npz"
# The slice tests/test_quality.py evaluates: operations per language and weak queries per language.
SLICE = {"per_language": 15, "queries_per_language": 4}


def slice_texts(esif: Path) -> dict[Role, list[str]]:
    """What the slice's evaluation embeds: the operations' summaries as passages, the queries as queries."""
    corpus, queries = corpus_and_queries(SLICE["per_language"], SLICE["queries_per_language"], esif=esif)
    return {"passage": [o.summary for o in corpus], "query": [q.text for q in queries]}


def app_embedder() -> Embedder:
    """The process-wide embedder that an app with the default settings uses."""
    with tempfile.TemporaryDirectory() as instance:
        config = load_config(Path(instance))
    return shared_embedder(config["MATCHER_MODEL"], config["MATCHER_EMBED_BATCH"], config["MATCHER_EMBED_BACKEND"])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _stored(path: Path, model_id: str) -> dict[tuple[Role, str], np.ndarray]:
    if not path.is_file():
        return {}
    with np.load(path) as stored:
        if str(stored["model_id"]) != model_id:
            return {}
        return {
            (role, digest): vector
            for role in ROLES
            for digest, vector in zip(stored[f"{role}_digests"], stored[f"{role}_vectors"], strict=True)
        }


def prime(embedder: Embedder, esif: Path, path: Path = VECTORS) -> None:
    """Put the slice's vectors in the embedder's recent-texts cache: the stored ones when this model
    computed them, otherwise computed now and stored."""
    texts = slice_texts(esif)
    stored = _stored(path, embedder.model_id)
    complete = all((role, _digest(t)) in stored for role, wanted in texts.items() for t in wanted)
    if not complete:
        vectors = {role: embedder.encode(wanted, role) for role, wanted in texts.items()}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        np.savez(
            tmp,
            model_id=np.array(embedder.model_id),
            **{f"{role}_digests": np.array([_digest(t) for t in texts[role]]) for role in ROLES},
            **{f"{role}_vectors": vectors[role] for role in ROLES},
        )
        tmp.replace(path)
        stored = {(role, _digest(t)): v for role in ROLES for t, v in zip(texts[role], vectors[role], strict=True)}
    for role, wanted in texts.items():
        embedder.remember(role, {t: stored[(role, _digest(t))] for t in wanted})


def main() -> None:
    if not ESIF.is_file():
        print(f"quality slice vectors: skipped, no ESIF data at {ESIF}")
        return
    prime(app_embedder(), ESIF)
    print(f"quality slice vectors: {VECTORS}")


if __name__ == "__main__":
    main()
