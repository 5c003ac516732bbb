"""Audit trail: who changed an organisation, when, and each field before and after.

Entries are written in the same transaction as the change they describe; they are erased with the
organisation (right to erasure), since they hold its data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from matcher.extensions import db
from matcher.partners.models import Organisation, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict[str, list[Any]]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")

    organisation: Mapped[Organisation] = db.relationship(
        backref=db.backref("audit_entries", cascade="all, delete-orphan", order_by="AuditEntry.id")
    )


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Each field whose value differs, as [before, after]."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def record(
    organisation: Organisation,
    action: str,
    actor: str = "",
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> None:
    db.session.add(AuditEntry(organisation=organisation, action=action, actor=actor, changes=changes or {}, note=note))


def trail(organisation_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.organisation_id == organisation_id).order_by(AuditEntry.id.desc())
        )
    )
