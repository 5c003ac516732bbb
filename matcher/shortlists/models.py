"""Shortlists of organisations kept by staff users.

A private list is seen by its owner alone; a shared one by every staff user. Entries go with
their organisation when it is deleted (ORM cascade, and ON DELETE CASCADE in the database).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.extensions import db
from matcher.partners.models import Organisation, utcnow
from matcher.staff.models import StaffUser

MAX_NAME = 120
MAX_NOTE = 2000


class Shortlist(db.Model):
    __tablename__ = "shortlists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    shared: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[StaffUser] = relationship()
    entries: Mapped[list[ShortlistEntry]] = relationship(
        back_populates="shortlist",
        cascade="all, delete-orphan",
        order_by="(ShortlistEntry.added_at, ShortlistEntry.organisation_id)",
    )

    def visible_to(self, user: StaffUser) -> bool:
        return self.shared or self.owner_id == user.id

    def entry(self, organisation_id: int) -> ShortlistEntry | None:
        return next((e for e in self.entries if e.organisation_id == organisation_id), None)

    def __repr__(self) -> str:
        return f"<Shortlist {self.id} {self.name!r} owner={self.owner_id} shared={self.shared}>"


class ShortlistEntry(db.Model):
    """One organisation on one list (at most once), with a note and who added it when."""

    __tablename__ = "shortlist_entries"

    shortlist_id: Mapped[int] = mapped_column(ForeignKey("shortlists.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str] = mapped_column(String(254), default="")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    shortlist: Mapped[Shortlist] = relationship(back_populates="entries")
    organisation: Mapped[Organisation] = relationship(
        backref=db.backref("shortlist_entries", cascade="all, delete-orphan")
    )
