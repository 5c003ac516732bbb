"""The consortium builder page: a proposal that meets the rules, reasons per member, swaps, export,
and rules that cannot be met said as such."""

from __future__ import annotations

import csv
import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from matcher.extensions import db
from matcher.partners.models import Organisation
from matcher.partners.operations import create_organisation
from matcher.partners.vocabulary import Status
from matcher.staff.accounts import create_staff
from tests.partner_data import DISTRACTORS, SAME_COUNTRY, TARGETS
from tests.web import page_text, submit, translated

PASSWORD = "correct horse battery staple"
CALL = (
    "Erasmus+ cooperation partnership: social enterprises that repair second-hand bicycles with long-term "
    "unemployed people exchange their training methods."
)
RULES = {"call": CALL, "size": 3, "min_countries": 3, "max_per_country": 1}


def _setting(app: Flask, client: FlaskClient) -> dict[str, int]:
    with app.app_context():
        for record in [*TARGETS, *DISTRACTORS, SAME_COUNTRY]:
            create_organisation(record, status=Status.PUBLISHED)
        create_staff("projects@cress.example", PASSWORD)
        ids = {o.name: o.id for o in db.session.scalars(select(Organisation))}
    submit(client, "/staff/login", {"email": "projects@cress.example", "password": PASSWORD})
    return ids


def _members(page: str, ids: dict[str, int]) -> list[str]:
    """Member names in page order (each member's name links to its staff page)."""
    found = [(page.find(f'/staff/organisations/{i}"'), name) for name, i in ids.items()]
    return [name for position, name in sorted(found) if position >= 0]


def test_proposes_relevant_partners_from_distinct_countries_with_reasons(app: Flask, client: FlaskClient) -> None:
    ids = _setting(app, client)
    page = client.get("/staff/consortium", query_string=RULES).get_data(as_text=True)
    members = _members(page, ids)
    workshops = {record["name"] for record in [*TARGETS, SAME_COUNTRY]}
    assert len(members) == 3 and set(members) <= workshops
    text = page_text(client.get("/staff/consortium", query_string=RULES))
    assert text.count(translated(app, "brings a new country: %(country)s", country="")) == 3


def test_a_required_lead_is_kept_and_a_swap_keeps_the_others(app: Flask, client: FlaskClient) -> None:
    ids = _setting(app, client)
    lead = ids[SAME_COUNTRY["name"]]
    rules = {**RULES, "include": str(lead)}
    first = _members(client.get("/staff/consortium", query_string=rules).get_data(as_text=True), ids)
    assert first[0] == SAME_COUNTRY["name"] and len(first) == 3
    swapped = first[1]
    after = _members(
        client.get("/staff/consortium", query_string={**rules, "swap": ids[swapped]}).get_data(as_text=True), ids
    )
    assert swapped not in after and len(after) == 3
    assert {first[0], first[2]} <= set(after)
    assert translated(app, "included on request (for example the lead partner)") in page_text(
        client.get("/staff/consortium", query_string=rules)
    )


def test_exports_the_consortium_as_csv(app: Flask, client: FlaskClient) -> None:
    ids = _setting(app, client)
    response = client.get("/staff/consortium/export.csv", query_string=RULES)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    workshops = {str(ids[record["name"]]) for record in [*TARGETS, SAME_COUNTRY]}
    assert len(rows) == 4 and {row[-1] for row in rows[1:]} <= workshops
    assert all(row[6] for row in rows[1:])


def test_rules_that_cannot_be_met_are_named(app: Flask, client: FlaskClient) -> None:
    _setting(app, client)
    text = page_text(client.get("/staff/consortium", query_string={**RULES, "size": 8, "min_countries": 8}))
    assert translated(app, "These rules cannot all be met") in text
    assert (
        translated(
            app, "The candidates come from %(available)d countries; the call needs %(needed)d.", available=6, needed=8
        )
        in text
    )


def test_bad_rules_come_back_with_what_was_typed(app: Flask, client: FlaskClient) -> None:
    _setting(app, client)
    response = client.get("/staff/consortium", query_string={**RULES, "size": 0, "include": "abc"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and CALL in text and 'value="abc"' in text
    assert translated(app, "Write numbers separated by commas.") in page_text(response)
