"""What the API shows of an organisation and of a result: public fields for everyone, staff
fields (status, contact) only for a staff token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from matcher.api.auth import current_token
from matcher.matching.explain import reasons
from matcher.matching.ranking import Result
from matcher.partners.models import Organisation

STAFF_FIELDS = ("status", "source", "source_reference", "contact_name", "contact_email", "created_at", "updated_at")


def in_utc(moment: datetime | None) -> datetime | None:
    """Stored times are naive UTC; the API states their offset."""
    return moment.replace(tzinfo=UTC) if moment is not None else None


def organisation_view(organisation: Organisation) -> dict[str, Any]:
    view = organisation.public_dict()
    if current_token() is not None:
        view.update((name, getattr(organisation, name)) for name in STAFF_FIELDS)
        view.update(created_at=in_utc(organisation.created_at), updated_at=in_utc(organisation.updated_at))
    return view


def result_view(rank: int, result: Result) -> dict[str, Any]:
    explanation = result.explanation
    return {
        "rank": rank,
        "organisation": organisation_view(result.organisation),
        "explanation": {**explanation.as_dict(), "reasons": reasons(explanation)},
    }


def results_view(results: list[Result], first_rank: int = 1) -> list[dict[str, Any]]:
    return [result_view(rank, result) for rank, result in enumerate(results, start=first_rank)]
