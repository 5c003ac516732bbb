"""The embedding model: loaded once per process, encodes texts in the role they play.

e5 models are trained with a prefix per role: ``query: `` for what is searched with,
``passage: `` for what is searched in. Getting the role wrong costs much quality, so every
call names its role.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from matcher.engine.onnx_int8 import onnx_digest, use_onnx_int8

Role = Literal["query", "passage"]
ROLES: tuple[Role, ...] = ("query", "passage")
CACHE_SIZE = 4096
# "torch": the float32 model; "onnx-int8": its transformer in ONNX Runtime, 8-bit (onnx_int8.py).
BACKENDS = ("torch", "onnx-int8")


class Embedder:
    """A sentence-transformers model behind a small cache of recent texts."""

    def __init__(self, model: str, batch_size: int = 32, backend: str = "torch") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"embedding backend {backend!r} is not one of {', '.join(BACKENDS)}")
        self.model_ref = model
        # int8 activations are scaled per batch, so a text's vector would depend on its batch-mates;
        # one text per call keeps it a function of the text alone, and is faster there (no padding).
        self.batch_size = 1 if backend == "onnx-int8" else batch_size
        self.backend = backend
        self._model = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[Role, str], np.ndarray] = OrderedDict()

    @property
    def model(self):  # noqa: ANN201 - SentenceTransformer, imported lazily (torch is slow to import)
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer

                    loaded = SentenceTransformer(self.model_ref, device="cpu")
                    if self.backend == "onnx-int8":
                        use_onnx_int8(loaded, Path(self.model_ref))
                    self._model = loaded
        return self._model

    @functools.cached_property
    def model_id(self) -> str:
        """Identifies the vectors: the model reference plus, for a local build, its build fingerprint,
        plus the int8 file's when that backend computes them (its vectors differ slightly). Read once:
        a process keeps the model it loaded."""
        suffix = f"+int8@{onnx_digest(Path(self.model_ref))}" if self.backend == "onnx-int8" else ""
        build_info = Path(self.model_ref) / "build-info.json"
        if build_info.is_file():
            digest = json.loads(build_info.read_text()).get("source_sha256", "")[:12]
            return f"{Path(self.model_ref).name}@{digest}{suffix}"
        config = Path(self.model_ref) / "config.json"
        if config.is_file():
            return f"{Path(self.model_ref).name}@{hashlib.sha256(config.read_bytes()).hexdigest()[:12]}{suffix}"
        return self.model_ref + suffix

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    def _prompt_kwargs(self, role: Role) -> dict[str, str]:
        prompts = self.model.prompts or {}
        if role in prompts:
            return {"prompt_name": role}
        if "e5" in self.model_ref.lower():
            return {"prompt": f"{role}: "}
        return {}

    def encode(self, texts: Sequence[str], role: Role, show_progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in the given role."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        found = self.cached(texts, role)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vectors = self.model.encode(
                missing,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
                **self._prompt_kwargs(role),
            ).astype(np.float32)
            computed = dict(zip(missing, vectors, strict=True))
            self.remember(role, computed)
            found.update(computed)
        return np.stack([found[t] for t in texts])

    def cached(self, texts: Sequence[str], role: Role) -> dict[str, np.ndarray]:
        """The vectors of those texts that this process encoded (or was given) recently."""
        return {t: v for t in texts if (v := self._cache.get((role, t))) is not None}

    def remember(self, role: Role, vectors: dict[str, np.ndarray]) -> None:
        """Keep these vectors among the recent ones, the oldest making way."""
        with self._lock:
            self._cache.update(((role, t), v) for t, v in vectors.items())
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)


@functools.cache
def shared_embedder(model: str, batch_size: int = 32, backend: str = "torch") -> Embedder:
    """One loaded model per process and backend, however many apps (workers, tests) ask for it."""
    return Embedder(model, batch_size=batch_size, backend=backend)


def to_bytes(vector: np.ndarray) -> bytes:
    """Storage form of one vector (float32, little-endian)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").copy()
