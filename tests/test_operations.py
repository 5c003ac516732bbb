"""Operations keep every field they are not asked to change, and embed only when text changes."""

from __future__ import annotations

import pytest
from flask import Flask

from matcher.partners.indexing import index_service
from matcher.partners.operations import InvalidOrganisation, create_organisation, update_organisation
from matcher.partners.vocabulary import Source, Status
from tests.partner_data import TARGETS

RECORD = {
    **TARGETS[0],
    "contact_name": "Anna Beispiel",
    "contact_email": "anna@radwerk.example",
    "source_reference": "crm-42",
}


def test_self_submitted_profile_needs_a_contact(app: Flask) -> None:
    with app.app_context(), pytest.raises(InvalidOrganisation) as raised:
        create_organisation(TARGETS[0], source=Source.SELF)
    assert set(raised.value.errors) == {"contact_email", "contact_name"}


def test_editing_a_field_keeps_the_others_and_the_vectors(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        organisation = create_organisation(RECORD, status=Status.PUBLISHED, consent=True)
        vectors = organisation.embedding.description
        monkeypatch.setattr(index_service().embedder, "encode", lambda *a, **k: pytest.fail("re-embedded"))
        update_organisation(organisation, {"city": "Leipzig", "themes": ["work_integration", "youth"]})
        assert organisation.city == "Leipzig" and organisation.themes == ["work_integration", "youth"]
        assert organisation.contact_email == "anna@radwerk.example"
        assert organisation.source_reference == "crm-42"
        assert organisation.consent_publication_at is not None
        assert organisation.embedding.description == vectors


def test_editing_the_description_re_embeds_and_re_detects_the_language(app: Flask) -> None:
    with app.app_context():
        organisation = create_organisation(RECORD, status=Status.PUBLISHED)
        vectors = organisation.embedding.description
        assert organisation.description_language == "de"
        update_organisation(organisation, {"description": TARGETS[1]["description"]})
        assert organisation.description_language == "it"
        assert organisation.embedding.description != vectors


def test_invalid_edit_changes_nothing(app: Flask) -> None:
    with app.app_context():
        organisation = create_organisation(RECORD, status=Status.PUBLISHED)
        with pytest.raises(InvalidOrganisation):
            update_organisation(organisation, {"country": "CH", "city": "Basel"})
        assert organisation.country == "DE" and organisation.city == ""


def test_a_nul_character_never_reaches_the_database(app: Flask) -> None:
    """PostgreSQL refuses NUL in text (found by fuzzing the API in the PostgreSQL pass)."""
    with app.app_context():
        organisation = create_organisation({**TARGETS[0], "name": "Rad\x00werk", "city": "Leip\x00zig"})
        assert (organisation.name, organisation.city) == ("Radwerk", "Leipzig")
        update_organisation(organisation, {"region": "Sach\x00sen"})
        assert organisation.region == "Sachsen"
