"""Language-bias correction by per-language mean-centering.

In a pool that mixes languages, e5 ranks documents in the query's own language first. Each
language adds a roughly constant direction to its texts' vectors. We estimate that direction as
the mean vector of the language minus the mean over all languages, on a *parallel* corpus (the
same texts in every language, so the difference holds language only, no topic), and remove
it from every vector before it enters the index or is used as a query.

The mean over all languages (one per role) is removed as well: every e5 vector shares a large
common direction (unrelated texts have cosines near 0.8), which carries no topic and lets
generic texts sit close to everything. Centring each role's space on zero, as Libovický et al.
(2020, "On the language neutrality of pre-trained multilingual representations") centre each
language, leaves the cosines to what distinguishes the texts (docs/quality.md, sections 1 and 5).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from matcher.engine.embedding import ROLES, Embedder, Role

CORPUS_FILE = "data/parallel_descriptions.json"
# Names what apply() removes; offsets cached or indexed under another method are estimated again.
METHOD = "language-and-common-mean"
# The language key of a role's common mean.
COMMON = "*"


def _corpus_text() -> str:
    return resources.files("matcher.engine").joinpath(CORPUS_FILE).read_text("utf-8")


def parallel_corpus() -> dict[str, list[str]]:
    """The shipped parallel corpus: the same 32 organisation and project descriptions in the 24 EU languages."""
    return json.loads(_corpus_text())["texts"]


def centering_id(model_id: str) -> str:
    """What the offsets depend on: the model, the corpus they were estimated on and what is removed."""
    return f"{model_id}|{hashlib.sha256(_corpus_text().encode()).hexdigest()[:12]}|{METHOD}"


# Offsets depend on the model and the corpus only: estimated once per process.
_loaded: dict[str, LanguageCentering] = {}


class LanguageCentering:
    """Per-role offset vectors: one per language, and the role's common mean (key ``role:*``).
    Languages without an offset lose the common mean only."""

    def __init__(self, offsets: dict[str, np.ndarray]) -> None:
        self.offsets = offsets

    @staticmethod
    def _key(role: Role, language: str) -> str:
        return f"{role}:{language}"

    @classmethod
    def _common_key(cls, role: Role) -> str:
        return cls._key(role, COMMON)

    @classmethod
    def fit(cls, embedder: Embedder, corpus: dict[str, list[str]] | None = None) -> LanguageCentering:
        corpus = corpus or parallel_corpus()
        offsets: dict[str, np.ndarray] = {}
        for role in ROLES:
            means = {lang: embedder.encode(texts, role).mean(axis=0) for lang, texts in corpus.items()}
            overall = np.mean(list(means.values()), axis=0)
            offsets.update({cls._key(role, lang): (mean - overall).astype(np.float32) for lang, mean in means.items()})
            offsets[cls._common_key(role)] = overall.astype(np.float32)
        return cls(offsets)

    @classmethod
    def load_or_fit(cls, embedder: Embedder, cache_path: Path) -> LanguageCentering:
        """Read the offsets cached for this model, or estimate and cache them (once per model)."""
        key = centering_id(embedder.model_id)
        if key not in _loaded:
            _loaded[key] = cls._read(cache_path, key) or cls._fit_and_write(embedder, cache_path, key)
        return _loaded[key]

    @classmethod
    def _read(cls, cache_path: Path, key: str) -> LanguageCentering | None:
        if not cache_path.is_file():
            return None
        with np.load(cache_path) as stored:
            if "centering_id" not in stored.files or str(stored["centering_id"]) != key:
                return None
            return cls({name: stored[name] for name in stored.files if name != "centering_id"})

    @classmethod
    def _fit_and_write(cls, embedder: Embedder, cache_path: Path, key: str) -> LanguageCentering:
        centering = cls.fit(embedder)
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_name(f".{cache_path.name}.{os.getpid()}.tmp.npz")
        np.savez(tmp, centering_id=np.array(key), **centering.offsets)
        tmp.replace(cache_path)
        return centering

    def scaled(self, strength: float) -> LanguageCentering:
        """The same correction, removing only ``strength`` times each language's offset (the common
        means stay whole)."""
        return LanguageCentering(
            {key: offset if key.endswith(f":{COMMON}") else strength * offset for key, offset in self.offsets.items()}
        )

    def apply(self, vectors: np.ndarray, languages: Sequence[str], role: Role) -> np.ndarray:
        """Remove the role's common mean and each row's language offset, and re-normalise."""
        corrected = np.array(vectors, dtype=np.float32, copy=True)
        common = self.offsets.get(self._common_key(role))
        if common is not None:
            corrected -= common
        for row, language in enumerate(languages):
            offset = self.offsets.get(self._key(role, language))
            if offset is not None:
                corrected[row] -= offset
        norms = np.linalg.norm(corrected, axis=1, keepdims=True)
        return corrected / np.maximum(norms, 1e-12)
