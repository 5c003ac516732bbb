"""What the service stores about a self-submitted profile, as one JSON document for its owner."""

from __future__ import annotations

from typing import Any

from matcher.introductions.operations import requests_of
from matcher.partners.models import Organisation

PRIVATE_FIELDS = ("contact_name", "contact_email", "status", "source")
DATES = ("consent_processing_at", "consent_publication_at", "created_at", "updated_at")


def personal_data(organisation: Organisation) -> dict[str, Any]:
    data: dict[str, Any] = organisation.public_dict()
    data.update({name: getattr(organisation, name) for name in PRIVATE_FIELDS})
    data.update({name: value.isoformat() if (value := getattr(organisation, name)) else None for name in DATES})
    data["introduction_requests"] = [
        {
            "organisation": request.target.name,
            "message": request.message,
            "status": request.status,
            "created_at": request.created_at.isoformat(),
        }
        for request in requests_of(organisation)
    ]
    return data
