"""The shipped example data: fictional organisations, published and clearly marked as examples."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from sqlalchemy import func, select

from matcher.extensions import db
from matcher.partners.models import Organisation, utcnow
from matcher.partners.operations import build, create_many, validated
from matcher.partners.vocabulary import Source, Status


def example_records() -> list[dict[str, Any]]:
    text = resources.files("matcher.partners").joinpath("example_data/organisations.json").read_text("utf-8")
    return json.loads(text)


def load_examples(if_empty: bool = False) -> int:
    """Store the example organisations as published; return how many were added."""
    if if_empty and db.session.scalar(select(func.count()).select_from(Organisation)):
        return 0
    now = utcnow()
    organisations = []
    for record in example_records():
        organisation = build(validated(record), Source.STAFF, Status.PUBLISHED, is_example=True)
        organisation.source_reference = f"example:{record['name']}"
        organisation.consent_processing_at = organisation.consent_publication_at = now
        organisations.append(organisation)
    create_many(organisations)
    return len(organisations)
