"""Shortlists: staff keep named lists of published organisations with notes, export them, and share
them with colleagues; a private list does not exist for anyone but its owner."""

from __future__ import annotations

import csv
import io

from flask import Flask, render_template_string
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from matcher.extensions import db
from matcher.partners.models import Organisation
from matcher.partners.operations import create_organisation, delete_organisation
from matcher.partners.vocabulary import Status
from matcher.shortlists.models import Shortlist, ShortlistEntry
from matcher.shortlists.views import shortlists_for
from matcher.staff.models import StaffUser
from tests.partner_data import UNPUBLISHED
from tests.test_staff import _sign_in
from tests.web import SECRET_EMAIL, SECRET_NAME, csrf_token, page_text, publish_partners, submit


def _ids(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {o.name: o.id for o in db.session.scalars(select(Organisation))}


def _create_list(client: FlaskClient, name: str, shared: bool = False) -> int:
    data = {"name": name, **({"shared": "y"} if shared else {})}
    response = submit(client, "/staff/shortlists", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _add(client: FlaskClient, organisation_id: int, next_url: str = "/search?q=v%C3%A9lo", **fields: object) -> object:
    token = csrf_token(client, "/staff/shortlists")
    return client.post(
        "/staff/shortlists/add",
        data={"csrf_token": token, "organisation_id": organisation_id, "next": next_url, **fields},
    )


def _post(client: FlaskClient, url: str, data: dict[str, object]) -> object:
    """Post to an endpoint that has no page of its own, with the token of the shortlists page."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/staff/shortlists")})


def _entries(app: Flask, shortlist_id: int) -> dict[int, str]:
    with app.app_context():
        rows = db.session.scalars(select(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist_id))
        return {entry.organisation_id: entry.note for entry in rows}


def test_a_shortlist_collects_published_organisations_with_notes_and_exports_them(
    app: Flask, client: FlaskClient
) -> None:
    publish_partners(app)
    with app.app_context():
        create_organisation(UNPUBLISHED, status=Status.PENDING)
    ids = _ids(app)
    radwerk, ruote, pending = ids["Radwerk Leipzig"], ids["Cooperativa Ruote Solidali"], ids[UNPUBLISHED["name"]]
    _sign_in(app, client)

    refused = submit(client, "/staff/shortlists", {"name": "  "})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    shortlist_id = _create_list(client, "Vélo EU project")

    added = _add(client, radwerk, shortlist_id=shortlist_id)
    assert added.status_code == 302 and added.headers["Location"] == "/search?q=v%C3%A9lo"
    assert _add(client, radwerk, shortlist_id=shortlist_id).status_code == 302  # twice: still one entry
    elsewhere = _add(client, ruote, next_url="https://evil.example/", shortlist_id=shortlist_id)
    assert elsewhere.headers["Location"] == "/staff/shortlists"
    assert _add(client, pending, shortlist_id=shortlist_id).status_code == 302  # refused: not published
    assert _add(client, ruote, next_url="/search", new_name="").status_code == 302  # refused: no list chosen
    assert set(_entries(app, shortlist_id)) == {radwerk, ruote}

    created = _add(client, ruote, new_name="Second list")
    assert created.status_code == 302
    with app.app_context():
        second = db.session.scalars(select(Shortlist).where(Shortlist.name == "Second list")).one()
        assert [e.organisation_id for e in second.entries] == [ruote] and not second.shared

    page_url = f"/staff/shortlists/{shortlist_id}"
    noted = _post(client, f"{page_url}/entries/{radwerk}/note", {"note": "Met them in Brussels; eager for KA2."})
    assert noted.status_code == 302
    too_long = _post(client, f"{page_url}/entries/{ruote}/note", {"note": "x" * 2001})
    assert too_long.status_code == 422 and "x" * 2001 in too_long.get_data(as_text=True)  # nothing lost
    assert _entries(app, shortlist_id) == {radwerk: "Met them in Brussels; eager for KA2.", ruote: ""}

    page = page_text(client.get(page_url))
    assert "Radwerk Leipzig" in page and "Met them in Brussels; eager for KA2." in page
    assert f'href="/staff/organisations/{radwerk}"' in page

    exported = client.get(f"{page_url}/export?format=csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert "attachment; filename=shortlist-" in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {(row["name"], row["country"], row["note"]) for row in rows} == {
        ("Radwerk Leipzig", "DE", "Met them in Brussels; eager for KA2."),
        ("Cooperativa Ruote Solidali", "IT", ""),
    }
    assert "contact_email" not in rows[0] and SECRET_EMAIL not in exported.get_data(as_text=True)
    assert rows[0]["added_by"] == "staff@cress.example"

    workbook = client.get(f"{page_url}/export?format=xlsx")
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.get_data())).active
    header, *values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert "note" in header and "contact_email" not in header and "contact_name" not in header
    by_name = {row[header.index("name")]: row for row in values}
    assert by_name["Radwerk Leipzig"][header.index("note")] == "Met them in Brussels; eager for KA2."
    assert by_name["Radwerk Leipzig"][header.index("themes")] == "work_integration; circular_economy"
    assert SECRET_NAME not in str(values)
    assert client.get(f"{page_url}/export?format=pdf").status_code == 400

    assert _post(client, f"{page_url}/entries/{ruote}/remove", {}).status_code == 302
    assert set(_entries(app, shortlist_id)) == {radwerk}

    with app.app_context():  # an erased organisation leaves no entry behind
        delete_organisation(db.session.get(Organisation, radwerk))
    assert _entries(app, shortlist_id) == {}
    assert client.get(page_url).status_code == 200

    assert _post(client, f"{page_url}/delete", {}).status_code == 302
    assert client.get(page_url).status_code == 404


def test_a_private_list_does_not_exist_for_colleagues_and_a_shared_one_is_theirs_too(app: Flask) -> None:
    publish_partners(app)
    ids = _ids(app)
    owner, colleague = app.test_client(), app.test_client()
    _sign_in(app, owner, "owner@cress.example")
    _sign_in(app, colleague, "colleague@cress.example")
    shortlist_id = _create_list(owner, "Private leads")
    assert _add(owner, ids["Radwerk Leipzig"], shortlist_id=shortlist_id).status_code == 302
    page_url = f"/staff/shortlists/{shortlist_id}"

    assert colleague.get(page_url).status_code == 404
    assert colleague.get(f"{page_url}/export?format=csv").status_code == 404
    assert _add(colleague, ids["Cooperativa Ruote Solidali"], shortlist_id=shortlist_id).status_code == 404
    token = csrf_token(colleague, "/staff/shortlists")
    for action in ("rename", "sharing", "delete", f"entries/{ids['Radwerk Leipzig']}/note"):
        assert colleague.post(f"{page_url}/{action}", data={"csrf_token": token, "name": "x"}).status_code == 404
    assert "Private leads" not in colleague.get("/staff/shortlists").get_data(as_text=True)

    assert _post(owner, f"{page_url}/sharing", {}).status_code == 302
    with app.app_context():
        users = {u.email: u for u in db.session.scalars(select(StaffUser))}
        assert [s.name for s in shortlists_for(users["colleague@cress.example"])] == ["Private leads"]
    assert "Private leads" in colleague.get("/staff/shortlists").get_data(as_text=True)
    assert colleague.get(page_url).status_code == 200
    assert _add(colleague, ids["Cooperativa Ruote Solidali"], shortlist_id=shortlist_id).status_code == 302
    noted = _post(colleague, f"{page_url}/entries/{ids['Radwerk Leipzig']}/note", {"note": "Called them."})
    assert noted.status_code == 302
    assert _post(colleague, f"{page_url}/rename", {"name": "Shared leads"}).status_code == 302
    with app.app_context():
        entries = db.session.scalars(select(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist_id))
        by_id = {e.organisation_id: e for e in entries}
        assert by_id[ids["Radwerk Leipzig"]].note == "Called them."
        assert by_id[ids["Cooperativa Ruote Solidali"]].added_by == "colleague@cress.example"
        assert db.session.get(Shortlist, shortlist_id).name == "Shared leads"
    # Sharing and deleting stay the owner's decisions.
    assert _post(colleague, f"{page_url}/delete", {}).status_code == 403
    assert _post(colleague, f"{page_url}/sharing", {}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    assert client.get("/staff/shortlists").headers["Location"].startswith("/staff/login")
    token = csrf_token(client, "/staff/login")
    refused = client.post("/staff/shortlists/add", data={"csrf_token": token, "organisation_id": 1, "new_name": "x"})
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/staff/login")
    with app.app_context():
        assert db.session.scalars(select(Shortlist)).first() is None


def test_the_search_page_macro_posts_to_the_add_endpoint(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    _sign_in(app, client)
    shortlist_id = _create_list(client, "From the search page", shared=True)
    template = (
        '{% from "shortlists/macros.html" import add_to_shortlist %}'
        "{{ add_to_shortlist(organisation, shortlists, '/search?q=bikes') }}"
    )
    with app.test_request_context("/search"):
        organisation = db.session.scalars(select(Organisation).where(Organisation.name == "Radwerk Leipzig")).one()
        owner = db.session.scalars(select(StaffUser)).one()
        html = render_template_string(template, organisation=organisation, shortlists=shortlists_for(owner))
    assert 'action="/staff/shortlists/add"' in html and 'name="csrf_token"' in html
    assert f'name="organisation_id" type="hidden" value="{organisation.id}"' in html
    assert f'<option value="{shortlist_id}">From the search page' in html and 'name="new_name"' in html
    assert 'name="next" type="hidden" value="/search?q=bikes"' in html
    assert _add(client, organisation.id, shortlist_id=shortlist_id).status_code == 302
    assert set(_entries(app, shortlist_id)) == {organisation.id}
