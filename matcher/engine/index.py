"""FAISS indexes over (id, vector), one per embedded field, saved atomically as one file.

Exact inner-product search (vectors are normalised, so this is cosine) is the default; above
a size threshold an IVF index (vectors stored as float16) trades a little recall for speed. Ids are organisation ids.

An allow-list (the ids that pass the filters) usually covers most of the index: match() passes
every published organisation outside one country. Turning a Python set of a million ids into a
FAISS selector costs more than the search itself, so such a search runs without one, deeper, and
drops what is not allowed; only narrow allow-lists get a selector, built with numpy.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Collection, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import faiss
import numpy as np

from matcher.engine.id_set import IdSet

FORMAT_VERSION = 1
# An IVF search restricted to at most this many ids is done exactly instead.
EXACT_ALLOW_LIMIT = 50_000
# An allow-list covering at least this share of the index is applied after an unrestricted search:
# IVF then scans the same lists either way; an exact search with a selector skips the scoring of
# what is not allowed, which pays until the allow-list covers most of the index.
POST_FILTER_SHARE = 0.05
FLAT_POST_FILTER_SHARE = 0.75
# Margin on the expected depth of such a search, and how often it may deepen before using a selector.
POST_FILTER_MARGIN = 1.25
POST_FILTER_TRIES = 3
# A bitmap selector (one bit per id up to the largest) while it is at most this many bits per indexed id.
BITMAP_BITS_PER_ID = 64
# k-means of an IVF index learns from at most this many vectors per list, drawn at random: at 1M
# vectors a quarter of them, which cuts the build about 4x (FAISS warns below 39 per list).
TRAINING_VECTORS_PER_LIST = 64


def ivf_nlist(n: int) -> int:
    """Inverted lists of an IVF index over n vectors."""
    return int(4 * math.sqrt(n))


def ivf_nprobe(nlist: int) -> int:
    """Lists probed per query: a sixth of them. On 74,348 real, language-corrected e5 vectors
    (bench/ivf_recall_real.py) that gives recall@10 0.976 unfiltered but 0.90 for match()'s own
    allow-list (every country but the query's: its nearest vectors are its own language's, in the
    lists nearest to it); synthetic vectors (bench/index_scale.py) reach 1.000 with far fewer."""
    return min(nlist, max(16, nlist // 6))


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
            nlist = ivf_nlist(len(ids))
            # Vectors kept as float16, not residuals: half the memory and about 1.7x faster scans than
            # float32 (bench/index_scale.py), scores within about 1e-4 of exact.
            ivf = faiss.IndexIVFScalarQuantizer(
                faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT, False
            )
            ivf.train(_training_sample(vectors, TRAINING_VECTORS_PER_LIST * nlist))
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
            ivf.nprobe = ivf_nprobe(nlist)
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
        query = np.asarray(query, dtype=np.float32).reshape(1, -1)
        if allowed is None:
            return self._search(query, k)
        if not isinstance(allowed, AbstractSet):
            allowed = set(allowed)
        if not allowed:
            return []
        share = len(allowed) / len(self.ids)
        # A narrow allow-list on IVF is searched exactly (see _selected), never post-filtered.
        if (self.kind == "flat" and share >= FLAT_POST_FILTER_SHARE) or (
            self.kind == "ivf" and share >= POST_FILTER_SHARE and len(allowed) > EXACT_ALLOW_LIMIT
        ):
            found = self._post_filtered(query, k, allowed, min(share, 1.0))
            if found is not None:
                return found
        return self._selected(query, k, allowed)

    def _search(
        self, query: np.ndarray, k: int, params: faiss.SearchParameters | None = None
    ) -> list[tuple[int, float]]:
        scores, ids = self.index.search(query, min(k, len(self.ids)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _post_filtered(
        self, query: np.ndarray, k: int, allowed: Collection[int], share: float
    ) -> list[tuple[int, float]] | None:
        """Search deeper without a selector and keep the allowed ids: the same result as a selector
        gives when k allowed ids come back (or the search saw everything it could). None otherwise."""
        depth = math.ceil(POST_FILTER_MARGIN * k / share) + 10
        for _ in range(POST_FILTER_TRIES):
            depth = min(depth, len(self.ids))
            found = self._search(query, depth)
            kept = [pair for pair in found if pair[0] in allowed]
            if len(kept) >= k or len(found) < depth or depth == len(self.ids):
                return kept[:k]
            depth *= 4
        return None

    def _selected(self, query: np.ndarray, k: int, allowed: Collection[int]) -> list[tuple[int, float]]:
        """Search with a FAISS selector of the allowed ids; IVF scans every list for a narrow allow-list,
        which probing only some lists may miss entirely (this is then an exact search among them)."""
        wanted = (
            allowed.array if isinstance(allowed, IdSet) else np.fromiter(allowed, dtype=np.int64, count=len(allowed))
        )
        selector, _keep = self._selector(wanted)
        if self.kind == "ivf":
            nlist = self.index.nlist
            nprobe = nlist if len(wanted) <= EXACT_ALLOW_LIMIT else self.index.nprobe
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        else:
            params = faiss.SearchParameters(sel=selector)
        return self._search(query, min(k, len(wanted)), params)

    def _selector(self, wanted: np.ndarray) -> tuple[faiss.IDSelector, np.ndarray]:
        """A bitmap when the ids are small enough, else a hashed batch; with the array it reads from,
        which must outlive the search."""
        top = int(wanted.max())
        if int(wanted.min()) >= 0 and top < BITMAP_BITS_PER_ID * max(len(self.ids), 1024):
            mask = np.zeros(top + 1, dtype=bool)
            mask[wanted] = True
            bitmap = np.packbits(mask, bitorder="little")
            return faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap)), bitmap
        return faiss.IDSelectorBatch(wanted), wanted

    def vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Stored vectors of those ids that this index holds."""
        present = [int(i) for i in ids if int(i) in self.ids]
        if not present:
            return {}
        matrix = self.index.reconstruct_batch(np.array(present, dtype=np.int64))
        return dict(zip(present, matrix, strict=True))

    def _serialised(self) -> np.ndarray:
        return faiss.serialize_index(self.index)

    def to_bytes(self) -> bytes:
        return self._serialised().tobytes()

    @classmethod
    def from_bytes(cls, dim: int, blob: bytes) -> VectorIndex:
        return cls._of(dim, faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8)))

    @classmethod
    def _read(cls, dim: int, stream: IO[bytes]) -> VectorIndex:
        """The index from a stream of to_bytes(): FAISS reads it in blocks, no whole copy is held."""
        return cls._of(dim, faiss.read_index(faiss.PyCallbackIOReader(stream.read)))

    @classmethod
    def _of(cls, dim: int, index: faiss.Index) -> VectorIndex:
        if isinstance(index, faiss.IndexIVF):
            ids = _ivf_ids(index)
            # Snapshots written before the probing policy changed get the current one.
            index.nprobe = ivf_nprobe(index.nlist)
        else:
            ids = faiss.vector_to_array(index.id_map)
        return cls(dim, index, ids.tolist())


def _training_sample(vectors: np.ndarray, most: int) -> np.ndarray:
    """At most ``most`` of the vectors, drawn with a fixed seed so that a rebuild gives the same index."""
    if len(vectors) > most:
        vectors = vectors[np.sort(np.random.default_rng(0).choice(len(vectors), most, replace=False))]
    return np.ascontiguousarray(vectors, dtype=np.float32)


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
        arrays = {f"field:{name}": index._serialised() for name, index in self.fields.items()}
        with open(tmp, "wb") as handle:
            np.savez(handle, meta=np.array(json.dumps(self.meta())), **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> IndexBundle:
        """Stream each field from the file into FAISS: the peak is the loaded indexes plus a buffer,
        not (as with whole copies of the file and of each field) more than twice that."""
        with np.load(path) as stored:
            meta = json.loads(str(stored["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"index format {meta.get('format')} is not {FORMAT_VERSION}")
            fields = {}
            for key in stored.files:
                if key.startswith("field:"):
                    with stored.zip.open(f"{key}.npy") as member:
                        _skip_npy_header(member)
                        fields[key.removeprefix("field:")] = VectorIndex._read(meta["dim"], member)
        return cls(dim=meta["dim"], model_id=meta["model_id"], watermark=meta["watermark"], fields=fields)


def _skip_npy_header(stream: IO[bytes]) -> None:
    """Position the stream of an .npy member (a uint8 vector, as save() writes) at its data."""
    version = np.lib.format.read_magic(stream)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read(stream)
    if dtype != np.uint8 or len(shape) != 1:
        raise ValueError(f"index field is {dtype} {shape}, not bytes")
