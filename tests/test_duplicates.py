"""Likely duplicates are flagged when records arrive; staff merge them field by field or keep both."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from matcher.extensions import db
from matcher.introductions.models import IntroductionRequest
from matcher.partners.audit import AuditEntry
from matcher.partners.duplicates import DuplicateFlag, DuplicateStatus, flag_duplicates, name_key
from matcher.partners.indexing import index_service
from matcher.partners.models import Organisation
from matcher.partners.operations import create_organisation
from matcher.partners.vocabulary import Status
from matcher.staff.accounts import create_staff
from tests.partner_data import TARGETS
from tests.web import csrf_token, submit, submit_profile

RADWERK = TARGETS[0]


def _create(app: Flask, **changes: object) -> int:
    with app.app_context():
        return create_organisation({**RADWERK, **changes}, status=Status.PUBLISHED).id


def _flags(app: Flask) -> list[tuple[int, int, str, str]]:
    with app.app_context():
        return [(f.first_id, f.second_id, f.reason, f.status) for f in db.session.scalars(select(DuplicateFlag))]


def test_names_are_compared_without_legal_form_accents_or_punctuation() -> None:
    assert name_key("Radwerk Leipzig e.V.") == name_key("RADWERK-Leipzig") == "radwerk leipzig"
    assert name_key("Coopérative Énergie S.C.I.C.") == name_key("cooperative energie") == "energie"
    assert name_key("Radwerk Leipzig") != name_key("Radwerk Dresden")


def test_same_name_same_domain_or_same_description_in_one_country_are_flagged(app: Flask) -> None:
    first = _create(app, website="https://radwerk-leipzig.example")
    renamed = _create(
        app,
        name="Radwerk Leipzig e.V.",
        description="Eine ganz andere Beschreibung eines Vereins, der etwas anderes tut.",
    )
    same_site = _create(
        app,
        name="Fahrradwerkstatt Sachsen",
        website="www.radwerk-leipzig.example/kontakt",
        description="Wir bilden Jugendliche in Dresden zu Köchen aus und betreiben eine Kantine.",
    )
    reworded = _create(app, name="Werkstatt Rad und Arbeit", website="")
    abroad = _create(app, name="Ruote e Lavoro", country="AT")
    flags = {(a, b): reason for a, b, reason, _ in _flags(app)}
    assert flags[(first, renamed)] == "name"
    assert flags[(first, same_site)] == "website"
    assert flags[(first, reworded)] == "description"
    assert not any(abroad in pair for pair in flags), "the same text in another country is another organisation"


def test_merge_keeps_the_chosen_fields_moves_requests_and_erases_the_other(app: Flask, client: FlaskClient) -> None:
    keep = _create(app, city="Leipzig", website="")
    token = submit_profile(client).split("/")[2]
    other = _create(app, name="Radwerk Leipzig e.V.", city="", website="https://radwerk.example")
    submit(client, f"/profile/{token}/introductions/{other}", {"message": "Hallo"})
    with app.app_context():
        create_staff("staff@cress.example", "correct horse battery staple")
        flag_id = db.session.scalars(select(DuplicateFlag.id).where(DuplicateFlag.second_id == other)).one()
    submit(client, "/staff/login", {"email": "staff@cress.example", "password": "correct horse battery staple"})
    page = client.get(f"/staff/duplicates/{flag_id}").get_data(as_text=True)
    assert "https://radwerk.example" in page and 'name="use_website"' in page
    response = client.post(
        f"/staff/duplicates/{flag_id}",
        data={
            "csrf_token": csrf_token(client, "/staff/duplicates"),
            "action": "keep_first",
            "use_website": str(other),
            "use_city": str(keep),
            "use_name": str(keep),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        kept = db.session.get(Organisation, keep)
        assert (kept.name, kept.city, kept.website) == ("Radwerk Leipzig", "Leipzig", "https://radwerk.example")
        assert db.session.get(Organisation, other) is None
        assert db.session.scalars(select(IntroductionRequest.target_id)).one() == keep
        assert "merged" in {
            entry.action for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.organisation_id == keep))
        }
        with index_service().current() as bundle:
            assert other not in bundle.field("description").ids and keep in bundle.field("description").ids


def test_pairs_marked_distinct_are_not_flagged_again(app: Flask, client: FlaskClient) -> None:
    first = _create(app)
    second = _create(app, country="DE", city="Halle")
    with app.app_context():
        create_staff("staff@cress.example", "correct horse battery staple")
        flag_id = db.session.scalars(select(DuplicateFlag.id)).one()
    submit(client, "/staff/login", {"email": "staff@cress.example", "password": "correct horse battery staple"})
    client.post(
        f"/staff/duplicates/{flag_id}",
        data={"csrf_token": csrf_token(client, "/staff/duplicates"), "action": "distinct"},
    )
    with app.app_context():
        assert flag_duplicates([first, second]) == 0
    assert _flags(app) == [(first, second, "name", DuplicateStatus.DISTINCT)]
    assert client.get(f"/staff/duplicates/{flag_id}").status_code == 404
