"""An enterprise describes itself, sees explained partners abroad, comes back by its private link,
edits, downloads and erases its profile: every page and every error path, through the test client."""

from __future__ import annotations

import hashlib
import json
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from matcher.extensions import db
from matcher.matching import Profile, match
from matcher.partners.indexing import index_service
from matcher.partners.models import Embedding, Organisation
from matcher.partners.vocabulary import Status
from tests.web import (
    PROFILE_FR,
    SECRET_EMAIL,
    SECRET_NAME,
    csrf_token,
    page_text,
    publish_partners,
    submit,
    submit_profile,
    translated,
)


def _token(link: str) -> str:
    return link.split("/")[2]


def _submitted(app: Flask) -> Organisation:
    with app.app_context():
        return db.session.scalars(
            select(Organisation).where(Organisation.contact_email == PROFILE_FR["contact_email"])
        ).one()


def test_form_page_in_french_with_every_field_and_hints(app: Flask, client: FlaskClient) -> None:
    response = client.get("/find-partners")
    page = page_text(response)
    assert response.status_code == 200 and 'lang="fr"' in page
    for name in (
        "name",
        "country",
        "region",
        "city",
        "website",
        "legal_form",
        "size",
        "languages",
        "description",
        "offers",
        "seeks",
        "partnership_types",
        "themes",
        "contact_name",
        "contact_email",
        "consent_processing",
        "consent_publication",
        "csrf_token",
    ):
        assert f'name="{name}"' in page, name
    assert translated(app, "Describe your organisation") in page
    assert translated(app, "Never shown publicly.") in page
    assert "Allemagne" in page and "Coopérative" in page
    assert 'maxlength="5000"' in page and 'for="description"' in page


def test_submitting_stores_a_pending_profile_and_shows_explained_partners_abroad(
    app: Flask, client: FlaskClient
) -> None:
    publish_partners(app)
    link = submit_profile(client)
    response = client.get(link)
    page = page_text(response)
    assert response.status_code == 200
    assert translated(app, "Your profile is saved. Staff will check it before it is shown to others.") in page
    for name, country in (
        ("Radwerk Leipzig", "Allemagne"),
        ("Cooperativa Ruote Solidali", "Italie"),
        ("Spółdzielnia Socjalna Dwa Kółka", "Pologne"),
    ):
        assert name in page and country in page
    assert "Atelier Vélo Solidaire de Lyon" not in page  # same country as the profile
    assert translated(app, "their activity is close to yours") in page
    assert translated(app, "Written in %(language)s.", language="allemand") in page
    assert "<svg" in page and translated(app, "Your matches by country") in page
    assert "<meter" in page
    assert SECRET_EMAIL not in page and SECRET_NAME not in page
    organisation = _submitted(app)
    assert organisation.status == Status.PENDING and organisation.consent_processing_at is not None
    assert organisation.source == "self" and organisation.description_language == "fr"


def test_a_pending_profile_appears_in_nobody_else_s_matches(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    submit_profile(client)
    with app.app_context():
        radwerk = db.session.scalars(select(Organisation).where(Organisation.name == "Radwerk Leipzig")).one()
        found = [result.organisation.name for result in match(Profile.of(radwerk), k=50)]
    assert "Cooperativa Ruote Solidali" in found and PROFILE_FR["name"] not in found


def test_the_private_link_is_stored_hashed_and_unknown_links_are_refused(app: Flask, client: FlaskClient) -> None:
    token = _token(submit_profile(client))
    stored = _submitted(app).access_token_hash
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    for path in ("", "/matches", "/edit", "/data.json", "/delete"):
        response = client.get(f"/profile/{token[:-1]}x{path}")
        assert response.status_code == 404
        assert translated(app, "This page does not exist, or the private link is not valid any more.") in page_text(
            response
        )


def test_invalid_submission_keeps_everything_typed_and_explains_each_field(app: Flask, client: FlaskClient) -> None:
    typed = {
        **PROFILE_FR,
        "name": "<b>Vélo</b> & Co",
        "country": "",
        "description": "Trop court",
        "contact_email": "marie-at-example",
        "consent_processing": "",
    }
    response = submit(client, "/find-partners", typed)
    page = page_text(response)
    raw = response.get_data(as_text=True)
    assert response.status_code == 422
    assert translated(app, "Choose the country.") in page
    assert translated(app, "Describe the organisation in at least %(minimum)d characters.", minimum=30) in page
    assert translated(app, "Give a valid email address.") in page
    assert translated(app, "Without this consent we cannot suggest partners.") in page
    assert "&lt;b&gt;Vélo&lt;/b&gt; &amp; Co" in raw and "<b>Vélo</b>" not in raw  # shown as text
    assert 'value="marie-at-example"' in raw and "Trop court</textarea>" in raw
    assert PROFILE_FR["seeks"] in page
    assert re.search(r'<input checked id="themes-\d+" name="themes" type="checkbox" value="work_integration">', raw)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Organisation)) == 0


def test_limits_on_lengths_and_counts(app: Flask, client: FlaskClient) -> None:
    themes = ["work_integration", "youth", "housing", "health", "culture", "energy"]
    response = submit(client, "/find-partners", {**PROFILE_FR, "description": "x" * 5001, "themes": themes})
    page = page_text(response)
    assert response.status_code == 422
    assert translated(app, "At most %(limit)d characters (now %(count)d).", limit=5000, count=5001) in page
    assert translated(app, "Choose at most %(limit)d.", limit=5) in page
    response = submit(client, "/find-partners", {**PROFILE_FR, "country": "GB", "legal_form": "castle"})
    assert response.status_code == 422


def test_filters_refine_the_matches_without_retyping(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    link = submit_profile(client)
    italian = page_text(client.get(link, query_string={"countries": "IT"}))
    assert "Cooperativa Ruote Solidali" in italian and "Radwerk Leipzig" not in italian
    themed = page_text(
        client.get(link, query_string={"themes": "circular_economy", "legal_forms": "social_enterprise"})
    )
    assert "Radwerk Leipzig" in themed and "Cooperativa Ruote Solidali" not in themed
    nothing = client.get(link, query_string={"countries": ["MT"], "languages": "xx", "partnership_types": "trade"})
    assert nothing.status_code == 200
    assert translated(app, "No published organisation in another member state matches these filters yet.") in page_text(
        nothing
    )


def test_profile_page_edit_re_embeds_and_updates_the_matches(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    token = _token(submit_profile(client))
    profile = page_text(client.get(f"/profile/{token}"))
    assert (
        PROFILE_FR["contact_email"] in profile
        and translated(
            app,
            "Your profile is awaiting review by the chamber's staff. Until then it appears in nobody else's matches.",
        )
        in profile
    )
    before = _submitted(app)
    with app.app_context():
        old_vector = db.session.get(Embedding, before.id).description
    edit_url = f"/profile/{token}/edit"
    assert 'value="Atelier Vélo Solidaire"' in client.get(edit_url).get_data(as_text=True)
    new_description = (
        "A cooperative café in Lyon that trains young refugees as cooks and baristas and serves organic local food."
    )
    response = submit(client, edit_url, {**PROFILE_FR, "description": new_description, "seeks": "", "offers": ""})
    assert response.status_code == 302
    after = _submitted(app)
    with app.app_context():
        assert db.session.get(Embedding, after.id).description != old_vector
    assert after.description == new_description and after.description_language == "en"
    invalid = submit(client, edit_url, {**PROFILE_FR, "description": "short", "name": "Renamed"})
    assert invalid.status_code == 422 and 'value="Renamed"' in invalid.get_data(as_text=True)
    assert _submitted(app).name == PROFILE_FR["name"]


def test_download_gives_every_stored_field_as_json(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    token = _token(submit_profile(client))
    response = client.get(f"/profile/{token}/data.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["contact_email"] == PROFILE_FR["contact_email"] and data["status"] == "pending"
    assert data["themes"] == PROFILE_FR["themes"] and data["consent_publication_at"]
    assert data["introduction_requests"] == []


def test_delete_erases_the_profile_from_database_and_index_at_once(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    token = _token(submit_profile(client))
    organisation_id = _submitted(app).id
    assert client.get(f"/profile/{token}/delete").status_code == 200
    response = submit(client, f"/profile/{token}/delete", {})
    assert response.status_code == 302
    assert translated(app, "Your profile and all its data have been deleted.") in page_text(client.get("/"))
    with app.app_context():
        assert db.session.get(Organisation, organisation_id) is None
        assert db.session.get(Embedding, organisation_id) is None
        with index_service().current() as bundle:
            assert organisation_id not in bundle.field("description").ids
    assert client.get(f"/profile/{token}").status_code == 404


def test_private_pages_are_not_cached_and_carry_security_headers(client: FlaskClient) -> None:
    token = _token(submit_profile(client))
    for url in (f"/profile/{token}", f"/profile/{token}/matches", "/find-partners", "/privacy"):
        headers = client.get(url).headers
        assert headers["X-Frame-Options"] == "DENY" and "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert client.get(f"/profile/{token}").headers["Cache-Control"] == "no-store"


def test_a_form_without_csrf_token_is_refused_but_shown_again_with_what_was_typed(
    app: Flask, client: FlaskClient
) -> None:
    response = client.post("/find-partners", data=PROFILE_FR)
    page = page_text(response)
    assert response.status_code == 400
    assert translated(app, "The form had expired. Nothing is lost: check your entries and send them again.") in page
    assert PROFILE_FR["description"] in page and 'name="csrf_token"' in page
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Organisation)) == 0


def test_submissions_are_rate_limited_without_losing_the_text(app: Flask, client: FlaskClient) -> None:
    app.config["MATCHER_SUBMISSION_LIMIT"] = "2 per hour"
    submit_profile(client, contact_email="one@example.org")
    submit_profile(client, contact_email="two@example.org")
    response = submit(client, "/find-partners", {**PROFILE_FR, "contact_email": "three@example.org"})
    assert response.status_code == 429
    assert translated(
        app, "Too many submissions from your connection. Nothing is lost: please try again in a while."
    ) in page_text(response)
    assert 'value="three@example.org"' in response.get_data(as_text=True)


def test_the_whole_interface_answers_in_seven_languages(app: Flask, client: FlaskClient) -> None:
    token = _token(submit_profile(client))
    for locale in app.config["LANGUAGES"]:
        for url in ("/", "/find-partners", "/privacy", f"/profile/{token}", f"/profile/{token}/matches", "/search"):
            response = client.get(url, query_string={"lang": locale, "q": "vélo"})
            page = response.get_data(as_text=True)
            assert response.status_code == 200 and f'<html lang="{locale}">' in page, (locale, url)
        assert translated(app, "Find partners", locale) in page_text(client.get("/"))


def test_the_csrf_token_is_on_every_form(client: FlaskClient) -> None:
    token = _token(submit_profile(client))
    for url in ("/find-partners", f"/profile/{token}/edit", f"/profile/{token}/delete"):
        assert csrf_token(client, url)
