"""The JSON API: a German description finds explained partners; tokens, scopes, limits, pagination
and problem documents behave; nothing private leaves through any operation of the OpenAPI document."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from matcher.api.tokens import ApiToken, create_token
from matcher.extensions import db
from matcher.introductions.models import IntroductionRequest
from matcher.partners.models import Organisation
from matcher.partners.operations import create_organisation
from matcher.partners.vocabulary import Status
from matcher.staff.accounts import set_role
from matcher.staff.models import StaffUser
from tests.partner_data import DISTRACTORS, TARGETS
from tests.test_staff import _sign_in
from tests.web import SECRET_EMAIL, SECRET_NAME, csrf_token, publish_partners, submit_profile, translated

GERMAN = {
    "country": "DE",
    "description": (
        "Wir sind eine Genossenschaft in Leipzig, die Langzeitarbeitslose als Fahrradmechaniker ausbildet "
        "und gebrauchte Fahrräder repariert und günstig verkauft."
    ),
}
BIKE_WORKSHOPS = {"Cooperativa Ruote Solidali", "Spółdzielnia Socjalna Dwa Kółka"}
HIDDEN_NAME = "Verborgene Fahrradwerkstatt"
HIDDEN_EMAIL = "hidden@pending.example"


def _token(app: Flask, scope: str, rate_limit: str = "1000 per minute", email: str = "api@cress.example") -> str:
    with app.app_context():
        owner = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        if owner is None:
            owner = StaffUser(email=email, password_hash="unused")
            db.session.add(owner)
            db.session.commit()
        return create_token(owner, f"{scope} token", scope, rate_limit)[1]


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _partners(app: Flask) -> None:
    publish_partners(app)
    with app.app_context():
        for record in DISTRACTORS:
            create_organisation(record, status=Status.PUBLISHED)


def _is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("http")
    return body


def test_a_german_description_gets_explained_partners_in_other_countries(app: Flask, client: FlaskClient) -> None:
    _partners(app)
    response = client.post("/api/v1/match", json={"profile": GERMAN, "limit": 4}, headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    names = [r["organisation"]["name"] for r in results]
    assert "Radwerk Leipzig" not in names  # same country as the profile
    # the Italian, Polish and French bike workshops come before the distractors
    assert set(names[:3]) == BIKE_WORKSHOPS | {"Atelier Vélo Solidaire de Lyon"}, names
    assert [r["rank"] for r in results] == [1, 2, 3, 4]
    first = results[0]["explanation"]
    assert first["best_part"] == "description" and first["reasons"][0] == "their activity is close to yours"
    assert first["score"] >= results[1]["explanation"]["score"]
    french = client.post("/api/v1/match", json={"profile": GERMAN}, headers={"Accept-Language": "fr"})
    assert french.get_json()["results"][0]["explanation"]["reasons"][0] == translated(
        app, "their activity is close to yours"
    )
    assert french.headers["Content-Language"] == "fr"


def test_match_filters_and_wishes_shape_the_results(app: Flask, client: FlaskClient) -> None:
    _partners(app)
    body = {
        "profile": {**GERMAN, "themes": ["work_integration"]},
        "filters": {"country": ["PL", "IT"], "legal_form": ["cooperative"]},
    }
    results = client.post("/api/v1/match", json=body, headers={"Accept-Language": "en"}).get_json()["results"]
    assert {r["organisation"]["name"] for r in results} == BIKE_WORKSHOPS
    assert all(r["explanation"]["shared_themes"] == ["work_integration"] for r in results)
    assert all("shared themes: Work integration" in r["explanation"]["reasons"] for r in results)


def test_search_returns_facets_and_pages(app: Flask, client: FlaskClient) -> None:
    _partners(app)
    everything = client.get("/api/v1/search", query_string={"q": "réparation de vélos et insertion"}).get_json()
    assert everything["total"] >= 4 and everything["page"] == 1
    countries = {value["code"]: value["count"] for value in everything["facets"]["country"]}
    assert countries["DE"] == 1 and countries["IT"] == 1 and sum(countries.values()) == everything["total"]
    chosen = client.get(
        "/api/v1/search", query_string={"q": "réparation de vélos et insertion", "country": "DE", "per_page": 1}
    ).get_json()
    assert chosen["total"] == 1 and chosen["results"][0]["organisation"]["name"] == "Radwerk Leipzig"
    # the country facet ignores its own selection: the other countries are still counted
    assert {v["code"]: v["selected"] for v in chosen["facets"]["country"]}["DE"] is True
    assert len(chosen["facets"]["country"]) == len(everything["facets"]["country"])
    second = client.get(
        "/api/v1/search", query_string={"q": "réparation de vélos et insertion", "per_page": 2, "page": 2}
    ).get_json()
    assert [r["rank"] for r in second["results"]] == [3, 4]
    assert second["pages"] == -(-everything["total"] // 2)


def test_organisations_are_listed_a_page_at_a_time(app: Flask, client: FlaskClient) -> None:
    _partners(app)
    first = client.get("/api/v1/organisations", query_string={"per_page": 3}).get_json()
    second = client.get("/api/v1/organisations", query_string={"per_page": 3, "page": 2}).get_json()
    with app.app_context():
        published = db.session.scalars(
            select(Organisation.id).where(Organisation.status == Status.PUBLISHED).order_by(Organisation.id)
        ).all()
    assert first["total"] == len(published) and first["pages"] == -(-len(published) // 3)
    assert [o["id"] for o in first["items"] + second["items"]] == published[:6]
    german = client.get("/api/v1/organisations", query_string={"country": "DE"}).get_json()
    assert [o["name"] for o in german["items"]] == ["Radwerk Leipzig"]
    later = client.get("/api/v1/organisations", query_string={"updated_since": "2999-01-01T00:00:00+00:00"})
    assert later.get_json()["total"] == 0
    one = client.get(f"/api/v1/organisations/{published[0]}").get_json()
    assert one["id"] == published[0] and "contact_email" not in one and "status" not in one


def test_staff_tokens_are_created_shown_once_stored_hashed_and_revoked(app: Flask, client: FlaskClient) -> None:
    _sign_in(app, client)
    page = client.post(
        "/staff/api-tokens",
        data={
            "name": "Regional network map",
            "scope": "write",
            "rate_limit": "600 per minute",
            "csrf_token": csrf_token(client, "/staff/api-tokens"),
        },
    ).get_data(as_text=True)
    secret = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)
    assert secret.startswith("essm_") and len(secret) > 40
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.scope == "write" and secret not in (token.token_hash, token.prefix)
        assert secret.startswith(token.prefix)
    listing = client.get("/staff/api-tokens").get_data(as_text=True)
    assert secret not in listing and token.prefix in listing
    created = client.post("/api/v1/organisations", json={**TARGETS[0]}, headers=_bearer(secret))
    assert created.status_code == 201, created.get_data(as_text=True)
    client.post(f"/staff/api-tokens/{token.id}/revoke", data={"csrf_token": csrf_token(client, "/staff/api-tokens")})
    _is_problem(client.post("/api/v1/organisations", json={**TARGETS[1]}, headers=_bearer(secret)), 401)


def test_scopes_decide_who_may_write(app: Flask, client: FlaskClient) -> None:
    read, write = _token(app, "read"), _token(app, "write")
    body = {**TARGETS[0], "contact_email": "kontakt@radwerk.example"}
    anonymous = _is_problem(client.post("/api/v1/organisations", json=body, headers={"Accept-Language": "en"}), 401)
    assert anonymous["title"] == "An API token is needed."
    _is_problem(client.post("/api/v1/organisations", json=body, headers=_bearer(read)), 403)
    _is_problem(client.post("/api/v1/organisations", json=body, headers=_bearer("essm_wrong")), 401)
    response = client.post("/api/v1/organisations", json=body, headers=_bearer(write))
    created = response.get_json()
    assert created["status"] == "pending" and created["contact_email"] == "kontakt@radwerk.example"
    number = created["id"]
    assert response.headers["Location"] == f"/api/v1/organisations/{number}"
    _is_problem(client.get(f"/api/v1/organisations/{number}"), 404)  # pending: not public
    assert client.get(f"/api/v1/organisations/{number}", headers=_bearer(read)).get_json()["status"] == "pending"
    changed = client.patch(f"/api/v1/organisations/{number}", json={"city": "Leipzig"}, headers=_bearer(write))
    assert changed.get_json()["city"] == "Leipzig"
    _is_problem(client.post(f"/api/v1/organisations/{number}/publish", headers=_bearer(read)), 403)
    published = client.post(f"/api/v1/organisations/{number}/publish", json={}, headers=_bearer(write))
    assert published.get_json()["status"] == "published"
    assert client.get(f"/api/v1/organisations/{number}").status_code == 200
    found = client.post("/api/v1/match", json={"profile": {**GERMAN, "country": "FR"}}).get_json()["results"]
    assert [r["organisation"]["id"] for r in found] == [number]
    again = _is_problem(client.post(f"/api/v1/organisations/{number}/publish", headers=_bearer(write)), 409)
    assert again["detail"] == translated(app, "This action is not possible for an organisation in this state.")
    client.post(f"/api/v1/organisations/{number}/archive", headers=_bearer(write))
    assert client.post("/api/v1/match", json={"profile": {**GERMAN, "country": "FR"}}).get_json()["results"] == []
    with app.app_context():
        actors = {entry.actor for entry in db.session.get(Organisation, number).audit_entries}
    assert actors == {"api@cress.example"}


def test_invalid_input_gets_each_field_s_message_in_the_caller_s_language(app: Flask, client: FlaskClient) -> None:
    write = _token(app, "write")
    body = {"name": "Radwerk", "country": "US", "description": "zu kurz", "website": "nicht eine Adresse", "x": 1}
    english = _is_problem(client.post("/api/v1/organisations", json=body, headers=_bearer(write)), 422)
    assert english["errors"]["country"] and english["errors"]["x"] and english["instance"] == "/api/v1/organisations"
    for locale in ("en", "fr", "de"):
        problem = _is_problem(
            client.post("/api/v1/match", json={"profile": {"country": "US"}}, headers={"Accept-Language": locale}), 422
        )
        assert problem["title"] == translated(app, "Some values are not valid.", locale)
        unknown = translated(app, "Unknown value: {input}.", locale).format(input="US")
        assert problem["errors"]["profile"]["country"] == [unknown]
        assert problem["errors"]["profile"]["description"] == [translated(app, "This field is required.", locale)]
    # the partner database's own validator: the same messages as the forms
    valid_types = {**TARGETS[0], "website": "nicht eine Adresse", "contact_email": "kein@"}
    checked = _is_problem(
        client.post("/api/v1/organisations", json=valid_types, headers={**_bearer(write), "Accept-Language": "de"}), 422
    )
    assert checked["errors"]["website"] == [translated(app, "Give a web address such as https://example.org.", "de")]
    assert checked["errors"]["contact_email"] == [translated(app, "Give a valid email address.", "de")]
    with app.app_context():
        assert db.session.scalars(select(Organisation)).all() == []


def test_problem_types_are_documented_and_pages_keep_their_html_errors(app: Flask, client: FlaskClient) -> None:
    problem = _is_problem(client.get("/api/v1/no-such-thing"), 404)
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    assert f'id="{problem["type"].split("#")[1]}"' in docs
    assert client.get("/no-such-page").mimetype == "text/html"
    assert _is_problem(client.delete("/api/v1/match"), 405)


def test_bodies_above_the_api_limit_are_refused(app: Flask, client: FlaskClient) -> None:
    app.config["MATCHER_API_MAX_BYTES"] = 2_000
    big = {"profile": {**GERMAN, "description": GERMAN["description"] * 20}}
    problem = _is_problem(client.post("/api/v1/match", json=big, headers={"Accept-Language": "en"}), 413)
    assert "2000 bytes" in problem["detail"]


def test_each_token_has_its_own_rate_limit_and_anonymous_callers_share_one(app: Flask, client: FlaskClient) -> None:
    app.config["MATCHER_API_LIMIT"] = "3 per minute"
    slow, other = _token(app, "read", "2 per minute"), _token(app, "read", "100 per minute")
    codes = [client.get("/api/v1/organisations", headers=_bearer(slow)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = _is_problem(client.get("/api/v1/organisations", headers=_bearer(slow)), 429)
    assert "2 per 1 minute" in limited["detail"]
    assert client.get("/api/v1/organisations", headers=_bearer(slow)).headers.get("Retry-After")
    assert [client.get("/api/v1/organisations", headers=_bearer(other)).status_code for _ in range(4)] == [200] * 4
    anonymous = [client.get("/api/v1/organisations").status_code for _ in range(4)]
    assert anonymous == [200, 200, 200, 429]


def test_consortium_needs_a_token_and_explains_each_member(app: Flask, client: FlaskClient) -> None:
    _partners(app)
    read = _token(app, "read")
    call = {"call": "Erasmus+ : échanges entre ateliers vélo d'insertion en Europe", "size": 3, "min_countries": 3}
    _is_problem(client.post("/api/v1/consortium", json=call), 401)
    body = client.post("/api/v1/consortium", json=call, headers={**_bearer(read), "Accept-Language": "en"}).get_json()
    assert body["feasible"] and body["problems"] == []
    members = body["members"]
    assert len({m["organisation"]["country"] for m in members}) == 3
    assert all(m["reasons"] and all(reason["text"] for reason in m["reasons"]) for m in members)
    impossible = {**call, "size": 2, "min_countries": 3}
    refused = client.post("/api/v1/consortium", json=impossible, headers=_bearer(read)).get_json()
    assert not refused["feasible"] and refused["problems"][0]["code"] == "min_countries_above_size"


def test_introduction_requests_need_the_requester_s_private_link(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    token = submit_profile(client).split("/")[2]
    with app.app_context():
        target = db.session.scalars(select(Organisation.id).where(Organisation.name == "Radwerk Leipzig")).one()
    body = {"requester_token": token, "target_id": target, "message": "Bonjour !"}
    created = client.post("/api/v1/introduction-requests", json=body)
    assert created.status_code == 201 and created.get_json()["status"] == "new"
    _is_problem(client.post("/api/v1/introduction-requests", json=body), 422)  # asked already
    wrong = _is_problem(client.post("/api/v1/introduction-requests", json={**body, "requester_token": "x"}), 422)
    assert "requester_token" in wrong["errors"]
    with app.app_context():
        assert db.session.scalars(select(IntroductionRequest.message)).all() == ["Bonjour !"]


@pytest.fixture()
def private_data(app: Flask) -> dict[str, int]:
    """Published partners with contacts, and a pending and a rejected organisation very like the query."""
    _partners(app)
    ids = {}
    with app.app_context():
        for status in (Status.PENDING, Status.REJECTED):
            record = {
                **TARGETS[1],
                "name": f"{HIDDEN_NAME} {status}",
                "contact_email": HIDDEN_EMAIL,
                "contact_name": SECRET_NAME,
            }
            ids[status] = create_organisation(record, status=status).id
    return ids


def _operations(client: FlaskClient) -> set[tuple[str, str]]:
    spec = client.get("/api/v1/openapi.json").get_json()
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item if method != "parameters"}


def test_no_operation_shows_contacts_or_unpublished_organisations_without_a_token(
    app: Flask, client: FlaskClient, private_data: dict[str, int]
) -> None:
    """Every operation of the OpenAPI document is called anonymously, with input that would find the
    hidden organisations if they leaked; a new operation fails this test until it is added here."""
    pending, rejected = private_data[Status.PENDING], private_data[Status.REJECTED]
    requester = submit_profile(client).split("/")[2]
    calls = {
        ("POST", "/api/v1/match"): [{"json": {"profile": {**GERMAN, "country": "FR"}, "limit": 50}}],
        ("GET", "/api/v1/search"): [
            {"query_string": {"q": HIDDEN_NAME, "per_page": 100}},
            {"query_string": {"q": "riparazione di biciclette", "per_page": 100}},
        ],
        ("POST", "/api/v1/consortium"): [{"json": {"call": "riparazione di biciclette", "include": [pending]}}],
        ("GET", "/api/v1/organisations"): [
            {"query_string": {"per_page": 100}},
            {"query_string": {"per_page": 100, "status": ["pending", "rejected"]}},
        ],
        ("GET", "/api/v1/organisations/{organisation_id}"): [{"path": pending}, {"path": rejected}],
        ("POST", "/api/v1/organisations"): [{"json": {**TARGETS[0], "contact_email": HIDDEN_EMAIL}}],
        ("PATCH", "/api/v1/organisations/{organisation_id}"): [{"path": pending, "json": {"city": "Roma"}}],
        ("POST", "/api/v1/organisations/{organisation_id}/publish"): [{"path": pending}],
        ("POST", "/api/v1/organisations/{organisation_id}/archive"): [{"path": pending}],
        ("POST", "/api/v1/introduction-requests"): [
            {"json": {"requester_token": requester, "target_id": pending}},
            {"json": {"requester_id": pending, "target_id": rejected}},
        ],
    }
    assert set(calls) == _operations(client)
    bodies = []
    for (method, path), variants in calls.items():
        for variant in variants:
            url = path.replace("{organisation_id}", str(variant.get("path", "")))
            response = client.open(
                url, method=method, json=variant.get("json"), query_string=variant.get("query_string")
            )
            assert response.status_code < 500, (method, path)
            bodies.append(response.get_data(as_text=True))
    text = json.dumps(bodies, ensure_ascii=False)
    hidden = [f"{HIDDEN_NAME} {status}" for status in (Status.PENDING, Status.REJECTED)]  # the query is HIDDEN_NAME
    for secret in (*hidden, HIDDEN_EMAIL, SECRET_EMAIL, SECRET_NAME, "contact_email", "contact_name"):
        assert secret not in text
    with app.app_context():
        assert db.session.get(Organisation, pending).status == Status.PENDING
        assert db.session.get(Organisation, pending).city == ""
        assert db.session.scalars(select(IntroductionRequest)).all() == []
    # the same calls do find the published organisations: the test would see a leak
    assert "Cooperativa Ruote Solidali" in text


def test_the_openapi_document_and_its_page_describe_every_operation(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0" and spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/match"]["post"]["requestBody"]
    assert all(list(r["content"]) == ["application/problem+json"] for r in spec["components"]["responses"].values())
    page = client.get("/api/v1/docs", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    for method, path in _operations(client):
        assert f"<code>{method} {path}</code>" in text
    assert "curl" in text and "Genossenschaft" in text


def test_a_deactivated_staff_member_s_tokens_stop_working(app: Flask, client: FlaskClient) -> None:
    read = _token(app, "read")
    assert client.get("/api/v1/organisations", headers=_bearer(read)).status_code == 200
    with app.app_context():
        owner = db.session.scalar(select(StaffUser).where(StaffUser.email == "api@cress.example"))
        set_role(owner, is_admin=False, active=False)
    _is_problem(client.get("/api/v1/organisations", headers=_bearer(read)), 401)
