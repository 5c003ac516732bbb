"""Tables of the partner database. The database is the source of truth; indexes derive from it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.extensions import db
from matcher.partners.vocabulary import Source, Status


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Organisation(db.Model):
    """An ESS organisation: public profile, private contact, moderation state."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    region: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    legal_form: Mapped[str] = mapped_column(String(32), default="other")
    size: Mapped[str] = mapped_column(String(16), default="")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text)
    description_language: Mapped[str] = mapped_column(String(8), default="")
    offers: Mapped[str] = mapped_column(Text, default="")
    seeks: Mapped[str] = mapped_column(Text, default="")
    partnership_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING, index=True)
    consent_processing_at: Mapped[datetime | None]
    consent_publication_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(16), default=Source.SELF)
    source_reference: Mapped[str] = mapped_column(String(200), default="", index=True)
    is_example: Mapped[bool] = mapped_column(default=False)
    # SHA-256 of the private link's token given to a self-submitted profile (the token itself is never stored).
    access_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    embedding: Mapped[Embedding | None] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", uselist=False
    )

    # Fields that the public may see; contact details are never among them.
    PUBLIC_FIELDS = (
        "id",
        "name",
        "country",
        "region",
        "city",
        "website",
        "legal_form",
        "size",
        "languages",
        "description",
        "description_language",
        "offers",
        "seeks",
        "partnership_types",
        "themes",
    )
    # Fields that validation checks and an edit may change.
    EDITABLE_FIELDS = tuple(f for f in PUBLIC_FIELDS if f != "id") + (
        "contact_name",
        "contact_email",
        "source_reference",
    )
    # Fields whose text is embedded: a change to one of them requires a new embedding.
    EMBEDDED_FIELDS = ("description", "offers", "seeks")

    def public_dict(self) -> dict[str, object]:
        return {field: getattr(self, field) for field in self.PUBLIC_FIELDS}

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r} {self.country} {self.status}>"


class Embedding(db.Model):
    """Raw passage vectors of an organisation's texts and the model that produced them.

    Kept raw (before language-bias correction) so that the correction can change without
    re-embedding; the index applies it when it is built.
    """

    __tablename__ = "embeddings"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(200))
    description: Mapped[bytes] = mapped_column(LargeBinary)
    offers: Mapped[bytes | None] = mapped_column(LargeBinary)
    seeks: Mapped[bytes | None] = mapped_column(LargeBinary)

    organisation: Mapped[Organisation] = relationship(back_populates="embedding")


class Change(db.Model):
    """Change sequence: one row per committed change to an organisation.

    Every process keeps its index replica current by applying the changes after its watermark.
    """

    __tablename__ = "changes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(index=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
