"""Language-bias correction by per-language mean-centering.

In a pool that mixes languages, e5 ranks documents in the query's own language first. Each
language adds a roughly constant direction to its texts' vectors. We estimate that direction as
the mean vector of the language minus the mean over all languages, on a *parallel* corpus (the
same sentences in every language, so the difference holds language only, no topic), and remove
it from every vector before it enters the index or is used as a query.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from matcher.engine.embedding import ROLES, Embedder, Role


def parallel_corpus() -> dict[str, list[str]]:
    """The shipped parallel corpus: the same sentences in the 24 EU languages."""
    text = resources.files("matcher.engine").joinpath("data/parallel_corpus.json").read_text("utf-8")
    return json.loads(text)["sentences"]


# Offsets depend on the model only: estimated once per process and model.
_loaded: dict[str, LanguageCentering] = {}


class LanguageCentering:
    """Per-role, per-language offset vectors; unknown languages are left as they are."""

    def __init__(self, offsets: dict[str, np.ndarray]) -> None:
        self.offsets = offsets

    @staticmethod
    def _key(role: Role, language: str) -> str:
        return f"{role}:{language}"

    @classmethod
    def fit(cls, embedder: Embedder, corpus: dict[str, list[str]] | None = None) -> LanguageCentering:
        corpus = corpus or parallel_corpus()
        offsets: dict[str, np.ndarray] = {}
        for role in ROLES:
            means = {lang: embedder.encode(texts, role).mean(axis=0) for lang, texts in corpus.items()}
            overall = np.mean(list(means.values()), axis=0)
            offsets.update({cls._key(role, lang): (mean - overall).astype(np.float32) for lang, mean in means.items()})
        return cls(offsets)

    @classmethod
    def load_or_fit(cls, embedder: Embedder, cache_path: Path) -> LanguageCentering:
        """Read the offsets cached for this model, or estimate and cache them (once per model)."""
        model_id = embedder.model_id
        if model_id not in _loaded:
            _loaded[model_id] = cls._read(cache_path, model_id) or cls._fit_and_write(embedder, cache_path)
        return _loaded[model_id]

    @classmethod
    def _read(cls, cache_path: Path, model_id: str) -> LanguageCentering | None:
        if not cache_path.is_file():
            return None
        with np.load(cache_path) as stored:
            if str(stored["model_id"]) != model_id:
                return None
            return cls({key: stored[key] for key in stored.files if key != "model_id"})

    @classmethod
    def _fit_and_write(cls, embedder: Embedder, cache_path: Path) -> LanguageCentering:
        centering = cls.fit(embedder)
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_name(f".{cache_path.name}.{os.getpid()}.tmp.npz")
        np.savez(tmp, model_id=np.array(embedder.model_id), **centering.offsets)
        tmp.replace(cache_path)
        return centering

    def scaled(self, strength: float) -> LanguageCentering:
        """The same correction, removing only ``strength`` times each offset."""
        return LanguageCentering({key: strength * offset for key, offset in self.offsets.items()})

    def apply(self, vectors: np.ndarray, languages: Sequence[str], role: Role) -> np.ndarray:
        """Remove each row's language offset and re-normalise."""
        corrected = np.array(vectors, dtype=np.float32, copy=True)
        for row, language in enumerate(languages):
            offset = self.offsets.get(self._key(role, language))
            if offset is not None:
                corrected[row] -= offset
        norms = np.linalg.norm(corrected, axis=1, keepdims=True)
        return corrected / np.maximum(norms, 1e-12)
