"""Likely duplicates: same normalised name, same website domain, or nearly the same description in
the same country. Flags are stored for staff, who merge the two records or mark them distinct."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

import numpy as np
from sqlalchemy import ForeignKey, String, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.engine.embedding import from_bytes
from matcher.extensions import db
from matcher.partners.models import Embedding, Organisation, utcnow

# Cosine of the raw e5 passage vectors above which two descriptions in one country are the same text
# in other words (related but distinct organisations lie around 0.85-0.92).
SAME_DESCRIPTION = 0.96
# Rows compared at once (bounds the memory of a bulk import's comparison).
BLOCK = 2048
# Legal-form words that do not tell two organisations apart.
LEGAL_WORDS = frozenset(
    "ev ggmbh gmbh eg eingetragener verein asbl vzw aisbl scic scop sarl sas sa association cooperative "
    "cooperativa sociale scs srl onlus coop ltd cic cio plc bv nv stichting vereniging sp z oo spoldzielnia "
    "socjalna fundacja stowarzyszenie".split()
)


class DuplicateStatus(StrEnum):
    OPEN = "open"
    DISTINCT = "distinct"


class DuplicateFlag(db.Model):
    __tablename__ = "duplicate_flags"
    __table_args__ = (UniqueConstraint("first_id", "second_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    second_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=DuplicateStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_by: Mapped[str] = mapped_column(String(254), default="")

    first: Mapped[Organisation] = relationship(
        foreign_keys=[first_id], backref=db.backref("duplicate_flags_first", cascade="all, delete-orphan")
    )
    second: Mapped[Organisation] = relationship(
        foreign_keys=[second_id], backref=db.backref("duplicate_flags_second", cascade="all, delete-orphan")
    )


def name_key(name: str) -> str:
    """Lower case, no accents or punctuation, legal-form words left out: "Radwerk Leipzig e.V." -> "radwerk leipzig"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().replace(".", "")
    words = [word for word in re.split(r"[^a-z0-9]+", plain) if word and word not in LEGAL_WORDS]
    return " ".join(words)


def domain_key(website: str) -> str:
    host = urlsplit(website if "://" in website else f"https://{website}").netloc.lower() if website else ""
    return host.removeprefix("www.")


def _key_pairs(new_ids: set[int]) -> dict[tuple[int, int], str]:
    """Each new record sharing a normalised name or website domain with others, paired with the
    group's earliest record: one flag per record, not one per pair (a funder's list can hold
    hundreds of operations of one beneficiary)."""
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for organisation_id, name, website in db.session.execute(
        select(Organisation.id, Organisation.name, Organisation.website).order_by(Organisation.id)
    ):
        if key := name_key(name):
            by_key[("name", key)].append(organisation_id)
        if key := domain_key(website):
            by_key[("website", key)].append(organisation_id)
    pairs: dict[tuple[int, int], str] = {}
    for (reason, _key), ids in by_key.items():
        earliest = ids[0]
        for new in new_ids.intersection(ids[1:]):
            pairs.setdefault((earliest, new), reason)
    return pairs


def _description_pairs(new_ids: set[int]) -> dict[tuple[int, int], str]:
    """Each new record paired with the most similar other record of its country, when nearly the same."""
    countries = set(db.session.scalars(select(Organisation.country).where(Organisation.id.in_(new_ids))))
    pairs: dict[tuple[int, int], str] = {}
    for country in countries:
        rows = db.session.execute(
            select(Embedding.organisation_id, Embedding.description)
            .join(Organisation)
            .where(Organisation.country == country)
            .order_by(Embedding.organisation_id)
        ).all()
        ids = np.array([row[0] for row in rows])
        vectors = np.stack([from_bytes(row[1]) for row in rows])
        mine = np.flatnonzero(np.isin(ids, list(new_ids)))
        for start in range(0, len(mine), BLOCK):
            block = mine[start : start + BLOCK]
            scores = vectors[block] @ vectors.T
            scores[np.arange(len(block)), block] = -1.0  # not oneself
            best = scores.argmax(axis=1)
            for row in np.flatnonzero(scores[np.arange(len(block)), best] >= SAME_DESCRIPTION):
                first, second = int(ids[block[row]]), int(ids[best[row]])
                pairs.setdefault((min(first, second), max(first, second)), "description")
    return pairs


def flag_duplicates(organisation_ids: Iterable[int]) -> int:
    """Store a flag for each new likely-duplicate pair (pairs marked distinct are not flagged again)."""
    new_ids = set(organisation_ids)
    if not new_ids:
        return 0
    pairs = _description_pairs(new_ids) | _key_pairs(new_ids)  # a shared name or website is the clearer reason
    known = {
        (first, second) for first, second in db.session.execute(select(DuplicateFlag.first_id, DuplicateFlag.second_id))
    }
    fresh = [
        DuplicateFlag(first_id=a, second_id=b, reason=reason) for (a, b), reason in pairs.items() if (a, b) not in known
    ]
    db.session.add_all(fresh)
    db.session.commit()
    return len(fresh)


def open_flags(organisation_id: int | None = None) -> list[DuplicateFlag]:
    query = select(DuplicateFlag).where(DuplicateFlag.status == DuplicateStatus.OPEN).order_by(DuplicateFlag.id)
    if organisation_id is not None:
        query = query.where(or_(DuplicateFlag.first_id == organisation_id, DuplicateFlag.second_id == organisation_id))
    return list(db.session.scalars(query))


def mark_distinct(flag: DuplicateFlag, actor: str) -> None:
    flag.status, flag.resolved_by = DuplicateStatus.DISTINCT, actor
    db.session.commit()
