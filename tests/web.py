"""Helpers for tests that use the web pages like a browser does: read the CSRF token, fill forms."""

from __future__ import annotations

import html
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext

from matcher.partners.operations import create_organisation
from matcher.partners.vocabulary import Status
from tests.partner_data import QUERY_FR, SAME_COUNTRY, TARGETS

SECRET_EMAIL = "secret@partner.example"
SECRET_NAME = "Verborgene Kontaktperson"

PROFILE_FR: dict[str, Any] = {
    **QUERY_FR,
    "name": "Atelier Vélo Solidaire",
    "city": "Lyon",
    "legal_form": "association",
    "themes": ["work_integration", "circular_economy"],
    "languages": ["fr", "en"],
    "partnership_types": ["knowledge_exchange"],
    "contact_name": "Marie Dupont",
    "contact_email": "marie@atelier-velo.example",
    "consent_processing": "y",
    "consent_publication": "y",
}


def csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def submit(client: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    """Post a form the way a browser does: with the token of the page that shows it."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def publish_partners(app: Flask) -> None:
    """The German, Italian and Polish bike workshops and a French one (same country as the profile)."""
    with app.app_context():
        for record in [*TARGETS, SAME_COUNTRY]:
            create_organisation(
                {**record, "contact_email": SECRET_EMAIL, "contact_name": SECRET_NAME}, status=Status.PUBLISHED
            )


def submit_profile(client: FlaskClient, **changes: Any) -> str:
    """Submit the French bike-workshop profile; return the private link's path of its matches page."""
    response = submit(client, "/find-partners", {**PROFILE_FR, **changes})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def translated(app: Flask, message: str, locale: str = "fr", **variables: Any) -> str:
    """A message as the catalog of `locale` renders it (and not the English source), for assertions."""
    with app.test_request_context(), force_locale(locale):
        text = gettext(message, **variables)
    if locale != "en":
        assert text != (message % variables if variables else message), f"untranslated in {locale}: {message}"
    return text


def page_text(response: Any) -> str:
    """The page with HTML entities decoded, to look for translated sentences (apostrophes are escaped)."""
    return html.unescape(response.get_data(as_text=True))
