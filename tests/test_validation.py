"""Bad input gets a clear, localised message per field; good input is cleaned, not rejected."""

from __future__ import annotations

from flask import Flask

from matcher.partners.validation import validate_organisation

GOOD = {
    "name": "  Coopérative Énergie Partagée ",
    "country": "el",
    "description": "Coopérative citoyenne qui installe des panneaux solaires sur les toits des écoles.",
    "website": "energie-partagee.example",
    "themes": "energy; local_development",
    "languages": ["fr", "EN"],
    "contact_email": "Contact@Energie-Partagee.example",
}


def test_good_input_is_cleaned(app: Flask) -> None:
    with app.test_request_context():
        result = validate_organisation(GOOD)
    assert result.ok, result.errors
    values = result.values
    assert values["name"] == "Coopérative Énergie Partagée"
    assert values["country"] == "GR"
    assert values["website"] == "https://energie-partagee.example"
    assert values["themes"] == ["energy", "local_development"]
    assert values["languages"] == ["fr", "en"]
    assert values["legal_form"] == "other"


def test_errors_are_per_field_and_in_french(app: Flask) -> None:
    bad = {
        **GOOD,
        "name": "",
        "country": "CH",
        "description": "trop court",
        "website": "ftp://x",
        "themes": "energy;astrology",
        "contact_email": "not-an-email",
        "legal_form": "kibbutz",
        "city": "x" * 121,
    }
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        errors = validate_organisation(bad).errors
    assert errors == {
        "name": "Indiquez le nom de l'organisation.",
        "country": "CH n'est pas un État membre de l'UE.",
        "description": "Décrivez l'organisation en 30 caractères au moins.",
        "website": "Indiquez une adresse web, par exemple https://example.org.",
        "themes": "Valeur(s) inconnue(s) : astrology.",
        "contact_email": "Indiquez une adresse électronique valide.",
        "legal_form": "Valeur inconnue : kibbutz.",
        "city": "120 caractères au plus (actuellement 121).",
    }


def test_errors_in_english(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        errors = validate_organisation({**GOOD, "country": ""}).errors
    assert errors == {"country": "Choose the country."}


def test_contact_required_for_self_submitted_profiles(app: Flask) -> None:
    with app.test_request_context():
        errors = validate_organisation({**GOOD, "contact_email": ""}, require_contact=True).errors
    assert set(errors) == {"contact_email", "contact_name"}


def test_an_address_that_cannot_be_parsed_is_an_error_not_a_crash(app: Flask) -> None:
    """Found by the API fuzzer: urlsplit raises on an unclosed IPv6 bracket."""
    with app.test_request_context():
        result = validate_organisation({**GOOD, "website": "http://[::1"})
    assert list(result.errors) == ["website"]
