"""The one place where committed changes reach the indexes (vectors, and keywords for search).

Each process holds its own replica of each index. It follows the database's change sequence:
after a commit (or before a search) it applies every change after its watermark, so a change
written by any process becomes visible everywhere without a rebuild. The file on disk is a
snapshot that makes start-up fast; it can always be rebuilt from the stored vectors.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from flask import Flask, current_app
from sqlalchemy import Row, select
from sqlalchemy.exc import SQLAlchemyError

from matcher.engine.attributes import LISTS, SCALARS, AttributeTable
from matcher.engine.centering import LanguageCentering, centering_id
from matcher.engine.embedding import Role, from_bytes, shared_embedder
from matcher.engine.index import IndexBundle, VectorIndex
from matcher.engine.keywords import KeywordIndex, KeywordReplica
from matcher.engine.language import detect_language
from matcher.engine.shared_vectors import SharedVectors
from matcher.extensions import db
from matcher.partners.models import Change, Embedding, Organisation
from matcher.partners.vocabulary import Status

log = logging.getLogger(__name__)

FIELDS = Organisation.EMBEDDED_FIELDS
# Save a snapshot after this many incremental changes, so a restart has little to replay.
SNAPSHOT_EVERY = 500
CHUNK = 2000


@dataclass
class IndexReport:
    """What `matcher index check` found: the snapshot, replayed to now, against the database."""

    model_id: str
    snapshot_usable: bool
    replayed_changes: int
    indexed: dict[str, int] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    missing: list[int] = field(default_factory=list)
    unexpected: list[int] = field(default_factory=list)
    wrong_vectors: list[int] = field(default_factory=list)
    wrong_partition: list[int] = field(default_factory=list)
    stale_embeddings: int = 0

    @property
    def ok(self) -> bool:
        return self.snapshot_usable and not (
            self.missing or self.unexpected or self.wrong_vectors or self.wrong_partition or self.stale_embeddings
        )


class FieldVectors(NamedTuple):
    """Corrected vectors of one field with their organisations' ids and countries (the partitions)."""

    ids: list[int]
    vectors: np.ndarray
    countries: list[str]


# Asked up to three times per match (vectors, filters, candidates' facts): through the session's
# connection as plain SQL it costs a tenth of an ORM query.
_LATEST_CHANGE = f"SELECT max(seq) FROM {Change.__tablename__}"


def latest_change() -> int:
    """The newest change in the sequence (0 before the first)."""
    return db.session.connection().exec_driver_sql(_LATEST_CHANGE).scalar() or 0


class IndexService:
    """Embedder, language correction and index replica of one process."""

    def __init__(
        self,
        model: str,
        index_path: Path,
        centering_path: Path,
        centering_strength: float,
        approx_threshold: int,
        batch_size: int,
        backend: str,
        vector_cache_url: str = "",
    ) -> None:
        self.embedder = shared_embedder(model, batch_size, backend)
        self.vector_cache_url = vector_cache_url
        self.centering_path = centering_path
        self.centering_strength = centering_strength
        self.index_path = index_path
        self.approx_threshold = approx_threshold
        self._centering: LanguageCentering | None = None
        self._bundle: IndexBundle | None = None
        self._keywords: KeywordReplica | None = None
        self._attributes: AttributeTable | None = None
        self._attributes_watermark = 0
        self._unsaved = 0
        self._lock = threading.RLock()

    @property
    def centering(self) -> LanguageCentering:
        """The language-bias correction at the configured strength (0: no correction)."""
        if self._centering is None:
            self._centering = (
                LanguageCentering.load_or_fit(self.embedder, self.centering_path).scaled(self.centering_strength)
                if self.centering_strength
                else LanguageCentering({})
            )
        return self._centering

    @functools.cached_property
    def shared_vectors(self) -> SharedVectors | None:
        """Query vectors shared with the other workers and hosts, when a cache is configured."""
        return SharedVectors(self.vector_cache_url, self.embedder.model_id) if self.vector_cache_url else None

    def query_vectors(self, texts: Sequence[str], role: Role = "query") -> np.ndarray:
        """Raw vectors of texts asked at search time: this process's recent ones first, then those
        in the shared cache, and only then the model's."""
        shared = self.shared_vectors
        if shared is None:
            return self.embedder.encode(texts, role)
        found = self.embedder.cached(texts, role)
        wanted = [t for t in dict.fromkeys(texts) if t not in found]
        if wanted:
            from_shared = shared.get(role, wanted)
            self.embedder.remember(role, from_shared)
            found.update(from_shared)
            missing = [t for t in wanted if t not in found]
            if missing:
                computed = dict(zip(missing, self.embedder.encode(missing, role), strict=True))
                shared.put(role, computed)
                found.update(computed)
        return np.stack([found[t] for t in texts])

    @property
    def index_id(self) -> str:
        """What the indexed vectors depend on: the model, the correction's corpus and its strength."""
        return f"{centering_id(self.embedder.model_id)}|strength={self.centering_strength:g}"

    @property
    def bundle(self) -> IndexBundle:
        """The replica, loaded from its snapshot (or rebuilt) on first use, then kept current."""
        with self._lock:
            if self._bundle is None:
                self._bundle = self._load_snapshot() or self._build()
            self._sync()
            return self._bundle

    def _load_snapshot(self) -> IndexBundle | None:
        if not self.index_path.is_file():
            return None
        try:
            bundle = IndexBundle.load(self.index_path)
        except Exception as error:  # noqa: BLE001 - any unreadable snapshot is rebuilt, whatever broke it
            log.warning("index snapshot %s unreadable (%s): rebuilding", self.index_path, error)
            return None
        if bundle.model_id != self.index_id or bundle.watermark > latest_change():
            log.warning("index snapshot does not belong to this model or database: rebuilding")
            return None
        return bundle

    def _vector_rows(self, fields: Sequence[str], ids: Iterable[int] | None = None) -> Iterator[Sequence[Row]]:
        """Chunks of (id, language, country, model_id, *fields) of the published organisations: plain
        rows, no ORM objects, so that a rebuild at 1M holds the vectors and little else."""
        query = (
            select(
                Organisation.id,
                Organisation.description_language,
                Organisation.country,
                Embedding.model_id,
                *(getattr(Embedding, name) for name in fields),
            )
            .join(Embedding, Embedding.organisation_id == Organisation.id, isouter=True)
            .where(Organisation.status == Status.PUBLISHED)
            .order_by(Organisation.id)
        )
        if ids is not None:
            query = query.where(Organisation.id.in_(list(ids)))
        yield from db.session.execute(query.execution_options(yield_per=CHUNK)).partitions()

    def _vectors(self, rows: Iterable[Row], fields: Sequence[str]) -> dict[str, FieldVectors]:
        """Corrected vectors per field of those rows that have current embeddings."""
        collected: dict[str, tuple[list[Row], list[np.ndarray]]] = {name: ([], []) for name in fields}
        for row in rows:
            if row.model_id != self.embedder.model_id:
                continue
            for name in fields:
                blob = getattr(row, name)
                if blob:
                    collected[name][0].append(row)
                    collected[name][1].append(from_bytes(blob))
        return {
            name: FieldVectors(
                [row.id for row in held],
                self.centering.apply(np.stack(vectors), [row.description_language for row in held], "passage"),
                [row.country for row in held],
            )
            for name, (held, vectors) in collected.items()
            if held
        }

    def _field_chunks(self, name: str) -> Iterator[FieldVectors]:
        """One field's vectors, a chunk of published organisations at a time."""
        for chunk in self._vector_rows((name,)):
            if found := self._vectors(chunk, (name,)).get(name):
                yield found

    def _field_vectors(self, name: str) -> FieldVectors:
        """One field's vectors over every published organisation, read chunk by chunk."""
        chunks = list(self._field_chunks(name))
        vectors = (
            np.concatenate([c.vectors for c in chunks]) if chunks else np.zeros((0, self.embedder.dim), np.float32)
        )
        return FieldVectors([i for c in chunks for i in c.ids], vectors, [p for c in chunks for p in c.countries])

    def _build(self) -> IndexBundle:
        """One field at a time: the peak is the finished indexes plus one field's vectors twice."""
        watermark = latest_change()
        bundle = IndexBundle(dim=self.embedder.dim, model_id=self.index_id, watermark=watermark)
        for name in FIELDS:
            found = self._field_vectors(name)
            bundle.fields[name] = VectorIndex.build(
                bundle.dim, np.array(found.ids, dtype=np.int64), found.vectors, self.approx_threshold, found.countries
            )
            del found
        bundle.save(self.index_path)
        return bundle

    def _sync(self) -> None:
        assert self._bundle is not None
        self._unsaved += self._replay(self._bundle)
        if self._unsaved >= SNAPSHOT_EVERY:
            self.save()

    def _changes_after(self, watermark: int) -> tuple[int, list[int]]:
        """The latest change and the organisations changed after the watermark."""
        latest = latest_change()
        if latest == watermark:
            return latest, []
        return latest, sorted(set(db.session.scalars(select(Change.organisation_id).where(Change.seq > watermark))))

    def _replay(self, bundle: IndexBundle) -> int:
        """Apply the changes after the bundle's watermark; return how many organisations changed."""
        latest, changed = self._changes_after(bundle.watermark)
        if not changed:
            bundle.watermark = latest
            return 0
        bundle.remove(changed)
        for start in range(0, len(changed), CHUNK):
            for chunk in self._vector_rows(FIELDS, changed[start : start + CHUNK]):
                for name, found in self._vectors(chunk, FIELDS).items():
                    bundle.field(name).upsert(np.array(found.ids, dtype=np.int64), found.vectors, found.countries)
        bundle.watermark = latest
        return len(changed)

    def _texts(self, ids: Iterable[int] | None = None) -> dict[int, str]:
        """What keyword search reads of each published organisation."""
        query = select(
            Organisation.id,
            Organisation.name,
            Organisation.city,
            Organisation.region,
            Organisation.description,
            Organisation.offers,
        ).where(Organisation.status == Status.PUBLISHED)
        if ids is not None:
            query = query.where(Organisation.id.in_(list(ids)))
        return {row[0]: "\n".join(row[1:]) for row in db.session.execute(query.execution_options(yield_per=CHUNK))}

    @property
    def keywords_path(self) -> Path:
        """The keyword snapshot's pointer file (its folders sit beside it)."""
        return self.index_path.with_name(f"{self.index_path.stem}-keywords.json")

    def _load_keywords(self) -> KeywordReplica | None:
        """The keyword snapshot, unless it was built at a change this database has not reached."""
        found = KeywordIndex.load(self.keywords_path)
        if found is None or found[1] > latest_change():
            return None
        return KeywordReplica(*found)

    def keywords(self) -> KeywordReplica:
        """The keyword replica, loaded from its snapshot (or built) on first use, then following the
        change sequence."""
        with self._lock:
            if self._keywords is None:
                self._keywords = self._load_keywords()
            if self._keywords is not None:
                latest, changed = self._changes_after(self._keywords.watermark)
                if len(changed) <= CHUNK:
                    self._keywords.apply(changed, self._texts(changed), latest)
                else:
                    self._keywords = None
            if self._keywords is None or self._keywords.needs_rebuild:
                self._keywords = self._build_keywords()
            return self._keywords

    def _build_keywords(self) -> KeywordReplica:
        """A new main keyword index over every published text, saved as the snapshot."""
        watermark = latest_change()
        main = KeywordIndex(self._texts())
        main.save(self.keywords_path, watermark)
        return KeywordReplica(main, watermark)

    def _attribute_rows(self, ids: Iterable[int] | None = None) -> list[dict[str, object]]:
        """What the attribute table holds of each published organisation."""
        columns = (Organisation.id, *(getattr(Organisation, name) for name in (*SCALARS, *LISTS)))
        query = select(*columns).where(Organisation.status == Status.PUBLISHED)
        if ids is not None:
            query = query.where(Organisation.id.in_(list(ids)))
        return [dict(row._mapping) for row in db.session.execute(query.execution_options(yield_per=CHUNK))]

    def attributes(self) -> AttributeTable:
        """The filterable attributes of the published organisations, following the change sequence."""
        with self._lock:
            if self._attributes is not None:
                latest, changed = self._changes_after(self._attributes_watermark)
                if len(changed) <= CHUNK:
                    self._attributes.remove(changed)
                    self._attributes.upsert(self._attribute_rows(changed) if changed else [])
                    self._attributes_watermark = latest
                else:
                    self._attributes = None
            if self._attributes is None:
                watermark = latest_change()
                table = AttributeTable()
                table.upsert(self._attribute_rows())
                self._attributes, self._attributes_watermark = table, watermark
            return self._attributes

    @contextmanager
    def current(self) -> Iterator[IndexBundle]:
        """The replica, brought up to date and held still while the caller reads it."""
        with self._lock:
            yield self.bundle

    def sync(self) -> None:
        """Apply committed changes now (called after every commit that touches organisations)."""
        _ = self.bundle

    def save(self) -> None:
        with self._lock:
            if self._bundle is not None:
                self._bundle.save(self.index_path)
                self._unsaved = 0

    def rebuild(self) -> IndexBundle:
        """Rebuild from the stored vectors (no re-embedding) and the texts, and replace the snapshots."""
        with self._lock:
            self._bundle = self._build()
            self._unsaved = 0
            self._keywords = self._build_keywords()
            return self._bundle

    def check(self, sample: int = 50) -> IndexReport:
        """Load the snapshot as a restart would, replay the changes, and compare with the database."""
        snapshot = self._load_snapshot()
        replica = snapshot or IndexBundle(dim=self.embedder.dim, model_id=self.index_id, watermark=0)
        report = IndexReport(
            model_id=self.embedder.model_id,
            snapshot_usable=snapshot is not None,
            replayed_changes=self._replay(replica),
        )
        report.stale_embeddings = sum(
            1 for chunk in self._vector_rows(()) for row in chunk if row.model_id != self.embedder.model_id
        )
        for name in FIELDS:
            ids: list[int] = []
            sampled: dict[int, np.ndarray] = {}
            held = replica.field(name)
            for chunk in self._field_chunks(name):
                ids.extend(chunk.ids)
                sampled.update(zip(chunk.ids[: sample - len(sampled)], chunk.vectors, strict=False))
                report.wrong_partition += [
                    i
                    for i, country in zip(chunk.ids, chunk.countries, strict=True)
                    if held.partition_of(i) not in (None, country)
                ]
            report.indexed[name], report.expected[name] = len(held), len(ids)
            report.missing += sorted(set(ids) - held.ids)
            report.unexpected += sorted(held.ids - set(ids))
            stored = held.vectors(sampled)
            report.wrong_vectors += [
                i for i, vector in sampled.items() if i in stored and float(stored[i] @ vector) < 0.999
            ]
        return report


def init_app(app: Flask) -> None:
    app.extensions["matcher.index"] = IndexService(
        model=app.config["MATCHER_MODEL"],
        index_path=Path(app.config["MATCHER_INDEX_PATH"]),
        centering_path=Path(app.config["MATCHER_CENTERING_PATH"]),
        centering_strength=app.config["MATCHER_CENTERING_STRENGTH"],
        approx_threshold=app.config["MATCHER_APPROX_THRESHOLD"],
        batch_size=app.config["MATCHER_EMBED_BATCH"],
        backend=app.config["MATCHER_EMBED_BACKEND"],
        vector_cache_url=app.config["MATCHER_VECTOR_CACHE_URL"],
    )


def index_service() -> IndexService:
    service: IndexService = current_app.extensions["matcher.index"]
    return service


def warm_up(app: Flask) -> None:
    """Load the model, the language offsets, the language detector, the indexes and the attribute
    table now, so the first request is not slow."""
    detect_language("warm-up")
    with app.app_context():
        service = index_service()
        service.centering.apply(service.embedder.encode(["warm-up"], "query"), ["en"], "query")
        try:
            service.sync()
            service.keywords()
            service.attributes()
        except SQLAlchemyError as error:
            log.warning("index not loaded at start-up (database not ready: %s); it will load on first use", error)
