"""FAISS indexes over (id, vector), one per embedded field, saved atomically as one file.

Exact inner-product search (vectors are normalised, so this is cosine) is the default; above
a size threshold an IVF index trades a little recall for speed. Ids are organisation ids.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

FORMAT_VERSION = 1
# An IVF search restricted to at most this many ids is done exactly instead.
EXACT_ALLOW_LIMIT = 50_000


class VectorIndex:
    """One field's vectors: upsert, remove, search with an optional allow-list, reconstruct."""

    def __init__(self, dim: int, index: faiss.Index | None = None, ids: Iterable[int] = ()) -> None:
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.ids: set[int] = set(ids)

    @classmethod
    def build(cls, dim: int, ids: np.ndarray, vectors: np.ndarray, approx_threshold: int) -> VectorIndex:
        """A fresh index over the given vectors: exact below the threshold, IVF above it."""
        if len(ids) < approx_threshold:
            built = cls(dim)
        else:
            nlist = int(4 * math.sqrt(len(ids)))
            ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.train(np.ascontiguousarray(vectors, dtype=np.float32))
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
            ivf.nprobe = max(16, nlist // 32)
            built = cls(dim, ivf)
        built.upsert(ids, vectors)
        return built

    @property
    def kind(self) -> str:
        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "flat"

    def __len__(self) -> int:
        return len(self.ids)

    def upsert(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        self.remove(ids)
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self.ids.update(int(i) for i in ids)

    def remove(self, ids: Iterable[int]) -> None:
        present = np.array([i for i in ids if int(i) in self.ids], dtype=np.int64)
        if len(present):
            self.index.remove_ids(present)
            self.ids.difference_update(int(i) for i in present)

    def search(self, query: np.ndarray, k: int, allowed: Iterable[int] | None = None) -> list[tuple[int, float]]:
        """Best k (id, cosine) pairs, restricted to ``allowed`` ids when given."""
        if not self.ids or k <= 0:
            return []
        params = None
        if allowed is not None:
            allow = np.array(sorted(self.ids.intersection(allowed)), dtype=np.int64)
            if len(allow) == 0:
                return []
            if self.kind == "ivf" and len(allow) <= EXACT_ALLOW_LIMIT:
                return self._exact_among(query, allow, k)
            selector = faiss.IDSelectorBatch(allow)
            params = (
                faiss.SearchParametersIVF(sel=selector) if self.kind == "ivf" else faiss.SearchParameters(sel=selector)
            )
            k = min(k, len(allow))
        scores, ids = self.index.search(
            np.asarray(query, dtype=np.float32).reshape(1, -1), min(k, len(self.ids)), params=params
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _exact_among(self, query: np.ndarray, allow: np.ndarray, k: int) -> list[tuple[int, float]]:
        """IVF probes only some lists, which a narrow allow-list may miss entirely: score those ids exactly."""
        matrix = np.stack([self.index.reconstruct(int(i)) for i in allow])
        scores = matrix @ np.asarray(query, dtype=np.float32).ravel()
        best = np.argsort(-scores, kind="stable")[:k]
        return [(int(allow[j]), float(scores[j])) for j in best]

    def vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Stored vectors of those ids that this index holds."""
        return {int(i): self.index.reconstruct(int(i)) for i in ids if int(i) in self.ids}

    def to_bytes(self) -> bytes:
        return faiss.serialize_index(self.index).tobytes()

    @classmethod
    def from_bytes(cls, dim: int, blob: bytes) -> VectorIndex:
        index = faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8))
        if isinstance(index, faiss.IndexIVF):
            ids = _ivf_ids(index)
        else:
            ids = faiss.vector_to_array(index.id_map)
        return cls(dim, index, (int(i) for i in ids))


def _ivf_ids(index: faiss.IndexIVF) -> np.ndarray:
    lists = index.invlists
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(n), lists.list_size(n)).copy()
        for n in range(index.nlist)
        if lists.list_size(n)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


@dataclass
class IndexBundle:
    """The named field indexes of one collection plus what they were built from."""

    dim: int
    model_id: str
    watermark: int = 0
    fields: dict[str, VectorIndex] = field(default_factory=dict)

    def field(self, name: str) -> VectorIndex:
        return self.fields.setdefault(name, VectorIndex(self.dim))

    def remove(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        for index in self.fields.values():
            index.remove(ids)

    def meta(self) -> dict[str, object]:
        return {
            "format": FORMAT_VERSION,
            "model_id": self.model_id,
            "dim": self.dim,
            "watermark": self.watermark,
            "counts": {name: len(index) for name, index in self.fields.items()},
            "kinds": {name: index.kind for name, index in self.fields.items()},
        }

    def save(self, path: Path) -> None:
        """Write to a temporary file, flush it to disk, then rename: never a half-written index."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        arrays = {
            f"field:{name}": np.frombuffer(index.to_bytes(), dtype=np.uint8) for name, index in self.fields.items()
        }
        with open(tmp, "wb") as handle:
            np.savez(handle, meta=np.array(json.dumps(self.meta())), **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> IndexBundle:
        with np.load(io.BytesIO(path.read_bytes())) as stored:
            meta = json.loads(str(stored["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"index format {meta.get('format')} is not {FORMAT_VERSION}")
            fields = {
                key.removeprefix("field:"): VectorIndex.from_bytes(meta["dim"], stored[key].tobytes())
                for key in stored.files
                if key.startswith("field:")
            }
        return cls(dim=meta["dim"], model_id=meta["model_id"], watermark=meta["watermark"], fields=fields)
