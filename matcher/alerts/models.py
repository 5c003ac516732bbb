"""Saved searches of staff users and the organisations already mailed for each."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.extensions import db
from matcher.matching import Filters
from matcher.partners.models import Organisation, utcnow
from matcher.partners.validation import KNOWN_LANGUAGES
from matcher.partners.vocabulary import EU_COUNTRIES, LEGAL_FORMS, PARTNERSHIP_TYPES, SIZES, THEMES, normalise_country
from matcher.staff.models import StaffUser

MAX_NAME = 120
MAX_QUERY = 500
# Stored filter key -> the repeated parameter of the search page (and of the save form) -> known codes.
FILTER_PARAMS: dict[str, tuple[str, frozenset[str]]] = {
    "countries": ("country", frozenset(EU_COUNTRIES)),
    "legal_forms": ("legal_form", frozenset(LEGAL_FORMS)),
    "themes": ("theme", frozenset(THEMES)),
    "languages": ("language", KNOWN_LANGUAGES),
    "partnership_types": ("partnership_type", frozenset(PARTNERSHIP_TYPES)),
    "sizes": ("size", frozenset(SIZES)),
}


def clean_filters(values: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each filter key with its known codes (in order, once each); unknown codes are dropped."""
    cleaned: dict[str, list[str]] = {}
    for key, (_param, known) in FILTER_PARAMS.items():
        codes = [normalise_country(c) if key == "countries" else c.strip() for c in values.get(key) or []]
        cleaned[key] = list(dict.fromkeys(code for code in codes if code in known))
    return cleaned


class SavedSearch(db.Model):
    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    query: Mapped[str] = mapped_column(Text)
    # {"countries": [...], "legal_forms": [...], "themes": [...], "languages": [...],
    #  "partnership_types": [...], "sizes": [...]}: lists of codes, empty for no restriction.
    filters: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_run_at: Mapped[datetime | None]

    owner: Mapped[StaffUser] = relationship()
    deliveries: Mapped[list[AlertDelivery]] = relationship(back_populates="saved_search", cascade="all, delete-orphan")

    def as_filters(self) -> Filters:
        """The matching filters, with only the fields that Filters has (the stored keys may be more)."""
        fields = {field.name for field in dataclasses.fields(Filters)}
        return Filters(**{key: tuple(codes) for key, codes in (self.filters or {}).items() if key in fields and codes})

    def search_arguments(self) -> dict[str, Any]:
        """The search page's query parameters (q and the repeated filter parameters) that re-run it."""
        arguments: dict[str, Any] = {"q": self.query}
        for key, (param, _known) in FILTER_PARAMS.items():
            if codes := (self.filters or {}).get(key):
                arguments[param] = list(codes)
        return arguments

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
