"""FAISS indexes over (id, vector), one per embedded field and country, saved atomically as one file.

Exact inner-product search (vectors are normalised, so this is cosine) is the default; above
a size threshold an IVF index (vectors stored as float16) per large country trades a little recall
for speed. Ids are organisation ids.

An allow-list (the ids that pass the filters) usually covers most of the index: match() passes
every published organisation outside one country. Turning a Python set of a million ids into a
FAISS selector costs more than the search itself, so such a search runs without one, deeper, and
drops what is not allowed; only narrow allow-lists get a selector, built with numpy.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Iterable, KeysView, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NamedTuple

import faiss
import numpy as np

from matcher.engine.id_set import IdSet

FORMAT_VERSION = 2
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
# Above the approximate threshold, a country with at least a 27th of it (one per member state) is
# IVF: the smaller ones, searched exactly, then hold fewer vectors than the threshold between them.
MEMBER_STATES = 27
# A bitmap selector (one bit per id up to the largest) while it is at most this many bits per indexed id.
BITMAP_BITS_PER_ID = 64
# k-means of an IVF index learns from at most this many vectors per list, drawn at random: at 1M
# vectors a quarter of them, which cuts the build about 4x (FAISS warns below 39 per list).
TRAINING_VECTORS_PER_LIST = 64


def ivf_nlist(n: int) -> int:
    """Inverted lists of an IVF index over n vectors (never more lists than vectors)."""
    return min(n, int(4 * math.sqrt(n)))


def ivf_nprobe(nlist: int) -> int:
    """Lists probed per query: a quarter of them. On 74,348 real, language-corrected e5 vectors
    indexed per country (bench/ivf_recall_real.py) that gives recall@10 0.993 unfiltered, 0.970 for
    match()'s allow-list (every country but the query's; 0.959-0.973 from 12,500 vectors up) and 0.960
    for a tenth of the ids; a sixth gave 0.983 / 0.928 / 0.920. Synthetic 1M vectors
    (bench/index_scale.py): 0.996-0.999."""
    return min(nlist, max(16, nlist // 4))


class Hits(NamedTuple):
    """What a partition found: ids and their cosines, best first."""

    ids: np.ndarray
    scores: np.ndarray


class Partition:
    """One FAISS index over the vectors of one partition (a country): exact or IVF."""

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._ids: np.ndarray | None = None

    @classmethod
    def build(cls, dim: int, ids: np.ndarray, vectors: np.ndarray, approximate: bool) -> Partition:
        if not approximate:
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
        built.add(ids, vectors)
        return built

    @property
    def kind(self) -> str:
        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "flat"

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def ids(self) -> np.ndarray:
        """The ids held, sorted (kept until the next change)."""
        if self._ids is None:
            held = _ivf_ids(self.index) if self.kind == "ivf" else faiss.vector_to_array(self.index.id_map)
            self._ids = np.sort(held)
        return self._ids

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Ids that this partition does not hold yet."""
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        self._ids = None

    def remove(self, ids: np.ndarray) -> None:
        """Ids that this partition holds."""
        self.index.remove_ids(np.asarray(ids, dtype=np.int64))
        self._ids = None

    def search_among(self, query: np.ndarray, k: int, among: _AllowList, inside: int) -> Hits:
        """Best k among the allowed ids, of which ``inside`` are in this partition."""
        share = inside / len(self)
        # A narrow allow-list on IVF is searched exactly (see _selected), never post-filtered.
        if (self.kind == "flat" and share >= FLAT_POST_FILTER_SHARE) or (
            self.kind == "ivf" and share >= POST_FILTER_SHARE and not among.narrow
        ):
            found = self._post_filtered(query, k, among, share)
            if found is not None:
                return found
        return self._selected(query, min(k, inside), among)

    def search(self, query: np.ndarray, k: int, params: faiss.SearchParameters | None = None) -> Hits:
        """Best k (ids and cosines, best first; among what the parameters' selector allows)."""
        scores, ids = self.index.search(query, min(k, len(self)), params=params)
        found = ids[0] >= 0
        return Hits(ids[0][found], scores[0][found])

    def _post_filtered(self, query: np.ndarray, k: int, among: _AllowList, share: float) -> Hits | None:
        """Search deeper without a selector and keep the allowed ids: the same result as a selector
        gives when k allowed ids come back (or the search saw everything it could). None otherwise."""
        depth = math.ceil(POST_FILTER_MARGIN * k / share) + 10
        for _ in range(POST_FILTER_TRIES):
            depth = min(depth, len(self))
            found = self.search(query, depth)
            kept = among.holds(found.ids)
            if np.count_nonzero(kept) >= k or len(found.ids) < depth or depth == len(self):
                return Hits(found.ids[kept][:k], found.scores[kept][:k])
            depth *= 4
        return None

    def _selected(self, query: np.ndarray, k: int, among: _AllowList) -> Hits:
        """Search with a FAISS selector of the allowed ids; IVF scans every list for a narrow allow-list,
        which probing only some lists may miss entirely (this is then an exact search among them)."""
        if self.kind == "ivf":
            nprobe = self.index.nlist if among.narrow else self.index.nprobe
            params = faiss.SearchParametersIVF(sel=among.selector, nprobe=nprobe)
        else:
            params = faiss.SearchParameters(sel=among.selector)
        return self.search(query, k, params)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ids that this partition holds, in their order."""
        return self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def _serialised(self) -> np.ndarray:
        return faiss.serialize_index(self.index)

    @classmethod
    def _read(cls, dim: int, stream: IO[bytes]) -> Partition:
        """The partition from a stream of _serialised(): FAISS reads it in blocks, no whole copy is held."""
        index = faiss.read_index(faiss.PyCallbackIOReader(stream.read))
        if isinstance(index, faiss.IndexIVF):
            # Snapshots written before the probing policy changed get the current one.
            index.nprobe = ivf_nprobe(index.nlist)
        return cls(dim, index)


class _AllowList:
    """An allow-list as the partitions read it: membership, how many of a partition's ids it allows,
    and one FAISS selector for all of them, built on first need."""

    def __init__(self, ids: AbstractSet[int], indexed: int) -> None:
        self.ids = ids
        self.indexed = indexed
        self.narrow = len(ids) <= EXACT_ALLOW_LIMIT
        self._array = ids.array if isinstance(ids, IdSet) else np.fromiter(ids, dtype=np.int64, count=len(ids))
        self._mask: np.ndarray | None = None
        self._selector: tuple[faiss.IDSelector, np.ndarray] | None = None

    def holds(self, ids: np.ndarray) -> np.ndarray:
        """Which of these ids are allowed, one flag each."""
        if self._bounded:
            mask = self._membership()
            inside = ids < len(mask)
            flags = np.zeros(len(ids), dtype=bool)
            flags[inside] = mask[ids[inside]]
            return flags
        return np.isin(ids, self._array)

    def count(self, partition: Partition) -> int:
        """How many of the partition's ids are allowed: read from a mask over the ids up to the largest
        allowed one, or, when that is too large to hold, by a sorted intersection."""
        held = partition.ids
        if self._bounded:
            mask = self._membership()
            return int(np.count_nonzero(mask[held[: np.searchsorted(held, len(mask))]]))
        return len(np.intersect1d(held, self._array, assume_unique=True))

    @functools.cached_property
    def _bounded(self) -> bool:
        """Whether a mask up to the largest allowed id is small enough to build."""
        return not len(self._array) or (
            int(self._array.min()) >= 0 and int(self._array.max()) < BITMAP_BITS_PER_ID * max(self.indexed, 1024)
        )

    def _membership(self) -> np.ndarray:
        """One flag per id up to the largest allowed (only when _bounded)."""
        if self._mask is None:
            if isinstance(self.ids, IdSet):
                self._mask = self.ids.mask
            else:
                self._mask = np.zeros(int(self._array.max()) + 1 if len(self._array) else 0, dtype=bool)
                self._mask[self._array] = True
        return self._mask

    @property
    def selector(self) -> faiss.IDSelector:
        """A bitmap when the ids are small enough, else a hashed batch (the array it reads is kept here,
        as it must outlive the searches)."""
        if self._selector is None:
            if self._bounded:
                bitmap = np.packbits(self._membership(), bitorder="little")
                self._selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap)), bitmap
            else:
                self._selector = faiss.IDSelectorBatch(self._array), self._array
        return self._selector[0]


class VectorIndex:
    """One field's vectors, partitioned by country: upsert, remove, search with an optional
    allow-list, reconstruct.

    Why partitions: a query's nearest vectors are in its own language, and match() asks for every
    country but the asker's. One IVF index probes the lists nearest to the query, full of its own
    country's vectors, and missed a tenth of the true ten best abroad (recall 0.90 on real vectors,
    bench/ivf_recall_real.py); searched country by country, each gets its own best lists (0.97).
    A partition the allow-list leaves out entirely is not searched at all.
    """

    def __init__(self, dim: int, partitions: dict[str, Partition] | None = None) -> None:
        self.dim = dim
        self.partitions: dict[str, Partition] = partitions or {}
        self._where: dict[int, str] = {
            int(i): name for name, partition in self.partitions.items() for i in partition.ids.tolist()
        }

    @classmethod
    def build(
        cls,
        dim: int,
        ids: np.ndarray,
        vectors: np.ndarray,
        approx_threshold: int,
        partitions: Sequence[str] | None = None,
    ) -> VectorIndex:
        """A fresh index over the given vectors, split by partition (one when none are given). Exact
        below the threshold; above it, each partition of at least a 27th of the threshold is IVF."""
        ids = np.asarray(ids, dtype=np.int64)
        names = np.asarray(partitions if partitions is not None else [""] * len(ids), dtype=str)
        approximate = len(ids) >= approx_threshold
        built = cls(dim)
        for name in sorted(set(names.tolist())):
            rows = np.flatnonzero(names == name)
            big = approximate and len(rows) >= math.ceil(approx_threshold / MEMBER_STATES)
            built.partitions[name] = Partition.build(dim, ids[rows], vectors[rows], big)
            built._where.update(dict.fromkeys(ids[rows].tolist(), name))
        return built

    @property
    def kind(self) -> str:
        """ivf when any partition is approximate, else flat."""
        return "ivf" if any(p.kind == "ivf" for p in self.partitions.values()) else "flat"

    @property
    def ids(self) -> KeysView[int]:
        return self._where.keys()

    def __len__(self) -> int:
        return len(self._where)

    def partition_of(self, organisation_id: int) -> str | None:
        """The partition holding that id, None when not held."""
        return self._where.get(organisation_id)

    def upsert(self, ids: np.ndarray, vectors: np.ndarray, partitions: Sequence[str] | None = None) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        self.remove(ids)
        names = np.asarray(partitions if partitions is not None else [""] * len(ids), dtype=str)
        for name in sorted(set(names.tolist())):
            rows = np.flatnonzero(names == name)
            self.partitions.setdefault(name, Partition(self.dim)).add(ids[rows], vectors[rows])
            self._where.update(dict.fromkeys(ids[rows].tolist(), name))

    def remove(self, ids: Iterable[int]) -> None:
        for name, held in self._grouped(ids).items():
            self.partitions[name].remove(held)
            for i in held.tolist():
                del self._where[i]

    def _grouped(self, ids: Iterable[int]) -> dict[str, np.ndarray]:
        """The held ones among ids, by partition, in their order."""
        groups: dict[str, list[int]] = {}
        for i in ids:
            if (name := self._where.get(int(i))) is not None:
                groups.setdefault(name, []).append(int(i))
        return {name: np.array(held, dtype=np.int64) for name, held in groups.items()}

    def search(self, query: np.ndarray, k: int, allowed: Iterable[int] | None = None) -> list[tuple[int, float]]:
        """Best k (id, cosine) pairs, restricted to ``allowed`` ids when given."""
        if not self._where or k <= 0:
            return []
        query = np.asarray(query, dtype=np.float32).reshape(1, -1)
        among = None
        if allowed is not None:
            if not isinstance(allowed, AbstractSet):
                allowed = set(allowed)
            if not allowed:
                return []
            among = _AllowList(allowed, len(self))
        found: list[Hits] = []
        for partition in self.partitions.values():
            if not len(partition):
                continue
            inside = len(partition) if among is None else among.count(partition)
            if inside == len(partition):
                found.append(partition.search(query, k))
            elif inside:
                assert among is not None
                found.append(partition.search_among(query, k, among, inside))
        if not found:
            return []
        ids = np.concatenate([hits.ids for hits in found])
        scores = np.concatenate([hits.scores for hits in found])
        best = np.lexsort((ids, -scores))[:k]
        return list(zip(ids[best].tolist(), scores[best].tolist(), strict=True))

    def vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Stored vectors of those ids that this index holds."""
        stored: dict[int, np.ndarray] = {}
        for name, held in self._grouped(ids).items():
            stored.update(zip(held.tolist(), self.partitions[name].vectors(held), strict=True))
        return stored


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
        arrays = {
            f"field:{name}:{partition_name}": partition._serialised()
            for name, index in self.fields.items()
            for partition_name, partition in index.partitions.items()
        }
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
            partitions: dict[str, dict[str, Partition]] = {name: {} for name in meta["counts"]}
            for key in stored.files:
                if key.startswith("field:"):
                    _, name, partition_name = key.split(":", 2)
                    with stored.zip.open(f"{key}.npy") as member:
                        _skip_npy_header(member)
                        partitions[name][partition_name] = Partition._read(meta["dim"], member)
        fields = {name: VectorIndex(meta["dim"], held) for name, held in partitions.items()}
        return cls(dim=meta["dim"], model_id=meta["model_id"], watermark=meta["watermark"], fields=fields)


def _skip_npy_header(stream: IO[bytes]) -> None:
    """Position the stream of an .npy member (a uint8 vector, as save() writes) at its data."""
    version = np.lib.format.read_magic(stream)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read(stream)
    if dtype != np.uint8 or len(shape) != 1:
        raise ValueError(f"index field is {dtype} {shape}, not bytes")
