"""Asking for an introduction records a request for staff; it never reveals a contact detail."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from matcher.extensions import db
from matcher.introductions.models import IntroductionRequest, IntroductionStatus
from matcher.partners.models import Organisation
from tests.web import (
    SECRET_EMAIL,
    SECRET_NAME,
    csrf_token,
    page_text,
    publish_partners,
    submit,
    submit_profile,
    translated,
)


def _id_of(app: Flask, name: str) -> int:
    with app.app_context():
        return db.session.scalars(select(Organisation.id).where(Organisation.name == name)).one()


def _requests(app: Flask) -> list[tuple[int, str, str]]:
    with app.app_context():
        return [(r.target_id, r.message, r.status) for r in db.session.scalars(select(IntroductionRequest))]


def test_asking_records_a_request_that_the_pages_and_the_download_show(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    link = submit_profile(client)
    token = link.split("/")[2]
    radwerk = _id_of(app, "Radwerk Leipzig")
    url = f"/profile/{token}/introductions/{radwerk}"
    form = page_text(client.get(url))
    assert "Radwerk Leipzig" in form and SECRET_EMAIL not in form and SECRET_NAME not in form
    response = submit(client, url, {"message": "Nous aimerions échanger sur la formation des mécaniciens."})
    assert response.status_code == 302 and response.headers["Location"] == link
    assert _requests(app) == [
        (radwerk, "Nous aimerions échanger sur la formation des mécaniciens.", IntroductionStatus.NEW)
    ]
    matches = page_text(client.get(link))
    assert (
        translated(
            app, "Your request is recorded. Staff will contact %(name)s and come back to you.", name="Radwerk Leipzig"
        )
        in matches
    )
    assert translated(app, "Introduction requested.") in matches
    assert SECRET_EMAIL not in matches
    assert "Radwerk Leipzig" in page_text(client.get(f"/profile/{token}"))
    data = client.get(f"/profile/{token}/data.json").get_json()
    assert data["introduction_requests"][0]["organisation"] == "Radwerk Leipzig"


def test_a_second_request_to_the_same_partner_is_refused_with_the_message_kept(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    token = submit_profile(client).split("/")[2]
    url = f"/profile/{token}/introductions/{_id_of(app, 'Radwerk Leipzig')}"
    submit(client, url, {"message": "Bonjour"})
    again = submit(client, url, {"message": "Bonjour encore"})
    assert again.status_code == 422
    assert translated(app, "You have already asked for an introduction to this organisation.") in page_text(again)
    assert "Bonjour encore</textarea>" in again.get_data(as_text=True)
    assert len(_requests(app)) == 1


def test_too_long_a_message_is_refused_and_kept(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    token = submit_profile(client).split("/")[2]
    response = submit(
        client, f"/profile/{token}/introductions/{_id_of(app, 'Radwerk Leipzig')}", {"message": "m" * 1001}
    )
    assert response.status_code == 422
    assert translated(app, "At most %(limit)d characters (now %(count)d).", limit=1000, count=1001) in page_text(
        response
    )
    assert "m" * 1001 in response.get_data(as_text=True) and _requests(app) == []


def test_only_published_partners_abroad_can_be_asked_for(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    token = submit_profile(client).split("/")[2]
    same_country = _id_of(app, "Atelier Vélo Solidaire de Lyon")
    own = _id_of(app, "Atelier Vélo Solidaire")
    for target in (same_country, own, 99999):
        assert client.get(f"/profile/{token}/introductions/{target}").status_code == 404
    german = submit_profile(client, contact_email="autre@example.org", country="DE").split("/")[2]
    # The French profile is pending: it cannot be proposed, even to an organisation abroad.
    forged = {"message": "x", "csrf_token": csrf_token(client, "/find-partners")}
    assert client.post(f"/profile/{german}/introductions/{own}", data=forged).status_code == 404
    assert _requests(app) == []


def test_without_csrf_token_or_over_the_rate_limit_the_message_is_shown_again(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    token = submit_profile(client).split("/")[2]
    url = f"/profile/{token}/introductions/{_id_of(app, 'Radwerk Leipzig')}"
    forged = client.post(url, data={"message": "Sans jeton"})
    assert forged.status_code == 400 and "Sans jeton</textarea>" in forged.get_data(as_text=True)
    assert translated(app, "The form had expired. Nothing is lost: check your message and send it again.") in page_text(
        forged
    )
    app.config["MATCHER_INTRODUCTION_LIMIT"] = "1 per hour"
    assert submit(client, url, {"message": "Premier"}).status_code == 302
    limited = submit(
        client, f"/profile/{token}/introductions/{_id_of(app, 'Cooperativa Ruote Solidali')}", {"message": "Second"}
    )
    assert limited.status_code == 429 and "Second</textarea>" in limited.get_data(as_text=True)
    assert len(_requests(app)) == 1


def test_erasing_either_organisation_removes_its_requests(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    token = submit_profile(client).split("/")[2]
    submit(client, f"/profile/{token}/introductions/{_id_of(app, 'Radwerk Leipzig')}", {"message": "Bonjour"})
    assert len(_requests(app)) == 1
    submit(client, f"/profile/{token}/delete", {})
    assert _requests(app) == []
