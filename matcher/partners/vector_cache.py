"""Vectors already computed for an import that has not committed yet, so that an interrupted import
resumes where its embedding stopped instead of starting over.

An import stores all its rows in one transaction or none; embedding 22,000 rows takes about 25
minutes. Each chunk's vectors are written here in a transaction of their own as soon as they are
computed, so they survive a crash, a killed worker or a failed commit; running the same import
again takes them from here. They are removed once their organisations are stored, and entries of an
import that was never run again expire.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import DateTime, LargeBinary, String, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from matcher.engine.embedding import Role, from_bytes, to_bytes
from matcher.extensions import db
from matcher.partners.models import utcnow

KEPT_FOR = timedelta(days=30)


class PendingVector(db.Model):
    """A passage vector by the text it was computed from (hashed) and the model that computed it."""

    __tablename__ = "pending_vectors"

    text_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


def _key(role: Role, text: str) -> str:
    return hashlib.sha256(f"{role}\x00{text}".encode()).hexdigest()


def cached(model_id: str, role: Role, texts: Iterable[str]) -> dict[str, np.ndarray]:
    """The vectors kept for those texts, by text."""
    by_key = {_key(role, t): t for t in texts}
    if not by_key:
        return {}
    rows = db.session.execute(
        select(PendingVector.text_sha256, PendingVector.vector).where(
            PendingVector.model_id == model_id, PendingVector.text_sha256.in_(by_key)
        )
    )
    return {by_key[key]: from_bytes(blob) for key, blob in rows}


def keep(model_id: str, role: Role, vectors: Mapping[str, np.ndarray]) -> None:
    """Store vectors at once, outside the caller's transaction (which may still roll back)."""
    rows = {_key(role, t): to_bytes(v) for t, v in vectors.items()}
    if not rows:
        return
    with db.engine.begin() as connection:
        connection.execute(
            delete(PendingVector).where(PendingVector.model_id == model_id, PendingVector.text_sha256.in_(rows))
        )
        connection.execute(
            insert(PendingVector),
            [{"text_sha256": k, "model_id": model_id, "vector": v, "created_at": utcnow()} for k, v in rows.items()],
        )
        connection.execute(delete(PendingVector).where(PendingVector.created_at < utcnow() - KEPT_FOR))


def forget(model_id: str, role: Role, texts: Iterable[str]) -> None:
    """Drop the vectors of texts whose organisations are now stored."""
    keys = [_key(role, t) for t in texts]
    with db.engine.begin() as connection:
        for start in range(0, len(keys), 500):
            connection.execute(
                delete(PendingVector).where(
                    PendingVector.model_id == model_id, PendingVector.text_sha256.in_(keys[start : start + 500])
                )
            )
