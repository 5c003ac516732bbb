"""Saved searches of staff users and the organisations already mailed for each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.extensions import db
from matcher.matching import Filters
from matcher.matching.filter_params import as_arguments, as_filters
from matcher.partners.models import Organisation, utcnow
from matcher.staff.models import StaffUser

MAX_NAME = 120
MAX_QUERY = 500


class SavedSearch(db.Model):
    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    query: Mapped[str] = mapped_column(Text)
    # Filters field name -> list of codes (matching.filter_params), empty for no restriction.
    filters: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_run_at: Mapped[datetime | None]

    owner: Mapped[StaffUser] = relationship()
    deliveries: Mapped[list[AlertDelivery]] = relationship(back_populates="saved_search", cascade="all, delete-orphan")

    def as_filters(self) -> Filters:
        return as_filters(self.filters or {})

    def search_arguments(self) -> dict[str, Any]:
        """The search page's query parameters (q and the repeated filter parameters) that re-run it."""
        return {"q": self.query, **as_arguments(self.filters or {})}

    def __repr__(self) -> str:
        return f"<SavedSearch {self.id} {self.name!r} owner={self.owner_id}>"


class AlertDelivery(db.Model):
    """An organisation mailed for a saved search: never mailed again for that search."""

    __tablename__ = "alert_deliveries"

    saved_search_id: Mapped[int] = mapped_column(ForeignKey("saved_searches.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    saved_search: Mapped[SavedSearch] = relationship(back_populates="deliveries")
    organisation: Mapped[Organisation] = relationship(
        backref=db.backref("alert_deliveries", cascade="all, delete-orphan")
    )
