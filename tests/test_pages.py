"""Every page of the app answers a GET with a localised HTML page, never a server error.

The URL map is walked, so a new route is covered as soon as it exists.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from matcher.extensions import db
from matcher.introductions.operations import forward, request_introduction
from matcher.partners.access import find_by_token
from matcher.partners.models import Organisation
from tests.web import publish_partners, submit_profile


def _consent_token(app: Flask, requester_token: str, target_id: int) -> str:
    """Ask for an introduction and forward it, as staff do; return the token of the target's link."""
    tokens: list[str] = []
    with app.test_request_context():
        requester = find_by_token(requester_token)
        target = db.session.get(Organisation, target_id)
        forward(request_introduction(requester, target, "Bonjour"), "staff@cress.example", tokens.append)
    return tokens[0]


def test_every_public_get_route_renders(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    """Back-office routes are walked by tests/test_staff.py, signed in and not; API operations by tests/test_api.py."""
    app.config["MATCHER_MAIL_FOLDER"] = str(tmp_path / "mail")
    publish_partners(app)
    token = submit_profile(client).split("/")[2]
    with app.app_context():
        partner = db.session.scalars(select(Organisation.id).where(Organisation.name == "Radwerk Leipzig")).one()
    values = {"token": token, "target_id": partner, "filename": "style.css"}
    consent = {"token": _consent_token(app, token, partner)}
    checked = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.rule.startswith(("/staff", "/api/")):
            continue
        arguments = {**values, **consent} if rule.endpoint == "introductions.answer_page" else values
        url = rule.build({name: arguments[name] for name in rule.arguments})[1]
        response = client.get(url, query_string={"q": "vélo"})
        assert response.status_code == 200, (rule.endpoint, response.status_code)
        if response.mimetype == "text/html":
            assert '<html lang="fr">' in response.get_data(as_text=True), rule.endpoint
        checked.append(rule.endpoint)
    assert {"profiles.find_partners", "profiles.matches", "introductions.ask", "introductions.answer_page"} <= set(
        checked
    )


def test_unknown_page_and_wrong_method_get_localised_error_pages(client: FlaskClient) -> None:
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Erreur 404" in missing.get_data(as_text=True)
    wrong = client.delete("/find-partners")
    assert wrong.status_code == 405
    english = client.get("/no-such-page", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Error 404" in english and "Back to the home page" in english


def test_too_large_a_request_is_refused_with_a_localised_page(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = client.post("/find-partners", data={"description": "x" * 20_000})
    assert response.status_code == 413 and "Erreur 413" in response.get_data(as_text=True)
