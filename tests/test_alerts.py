"""Saved searches and their alerts: staff save a search with its filters; `matcher alerts send` mails
each owner the organisations published since the last run that the search finds, each only once."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from matcher.alerts.models import AlertDelivery, SavedSearch
from matcher.extensions import db
from matcher.matching import Filters
from matcher.partners.models import Organisation
from matcher.partners.operations import create_organisation, delete_organisation, set_status
from matcher.partners.vocabulary import Status
from tests.partner_data import DISTRACTORS, TARGETS, org
from tests.test_staff import _sign_in
from tests.web import csrf_token, page_text

QUERY = "atelier de réparation de vélos avec des personnes en insertion"
OLD_BIKES = org(
    "Officina Bici Sociale",
    "IT",
    "Cooperativa sociale: ripariamo biciclette usate con persone in cerca di lavoro e le rivendiamo a poco prezzo.",
)
NEVER_PUBLISHED = org(
    "Ciclofficina in attesa",
    "IT",
    "Ciclofficina popolare dove volontari e persone svantaggiate riparano biciclette insieme.",
)


@pytest.fixture()
def mail_folder(app: Flask, tmp_path: Path) -> Path:
    app.config["MATCHER_MAIL_FOLDER"] = str(tmp_path / "mail")
    return tmp_path / "mail"


def _post(client: FlaskClient, url: str, data: dict[str, object]) -> object:
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/staff/saved-searches")})


def _mails(folder: Path, seen: set[Path]) -> list[EmailMessage]:
    """The messages written since the last call."""
    new = sorted(set(folder.glob("*.eml")) - seen) if folder.is_dir() else []
    seen.update(new)
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in new]


def _create(app: Flask, record: dict[str, object], status: Status) -> int:
    with app.app_context():
        return create_organisation(record, status=status).id


def test_staff_save_a_search_with_its_filters_and_delete_it(app: Flask, client: FlaskClient) -> None:
    _sign_in(app, client)
    back = "/search?q=v%C3%A9lo&country=DE"
    saved = _post(
        client,
        "/staff/saved-searches",
        {"q": QUERY, "name": "", "country": ["de", "IT", "XX"], "theme": ["work_integration"], "next": back},
    )
    assert saved.status_code == 302 and saved.headers["Location"] == back
    with app.app_context():
        search = db.session.scalars(select(SavedSearch)).one()
        assert search.name == QUERY and search.query == QUERY and search.last_run_at is None
        assert search.filters == {
            "countries": ["DE", "IT"],
            "legal_forms": [],
            "themes": ["work_integration"],
            "languages": [],
            "description_languages": [],
            "partnership_types": [],
            "sizes": [],
        }
        assert search.as_filters() == Filters(countries=("DE", "IT"), themes=("work_integration",))
        search_id = search.id
    listing = client.get("/staff/saved-searches")
    assert listing.status_code == 200 and listing.headers["Cache-Control"] == "no-store"
    assert "/search?q=atelier+de+r%C3%A9paration" in listing.get_data(as_text=True)
    assert "country=DE&amp;country=IT&amp;theme=work_integration" in listing.get_data(as_text=True)

    # A refused form comes back with everything typed and chosen.
    refused = _post(client, "/staff/saved-searches", {"q": " ", "name": "Bikes in Poland", "country": "PL"})
    assert refused.status_code == 422
    page = page_text(refused)
    assert 'value="Bikes in Poland"' in page and '<input name="country" type="hidden" value="PL">' in page

    other = app.test_client()
    _sign_in(app, other, "colleague@cress.example")
    assert QUERY not in page_text(other.get("/staff/saved-searches"))
    assert _post(other, f"/staff/saved-searches/{search_id}/delete", {}).status_code == 404
    assert _post(client, f"/staff/saved-searches/{search_id}/delete", {}).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(SavedSearch)).first() is None


def test_the_search_page_macro_carries_the_query_and_filters(app: Flask, client: FlaskClient) -> None:
    _sign_in(app, client)
    template = (
        '{% from "alerts/macros.html" import save_search_form %}{{ save_search_form(query, arguments) }}'
        "{{ save_search_form(query, {'country': ['PL'], 'size': ['small']}) }}"
    )
    with app.test_request_context("/search"):
        html = render_template_string(
            template, query="vélo", arguments={"country": ["DE", "IT"], "theme": ["work_integration"]}
        )
    assert html.count('action="/staff/saved-searches"') == 2 and 'name="csrf_token"' in html
    assert '<input name="q" type="hidden" value="vélo">' in html
    for code in ('name="country" type="hidden" value="DE"', 'name="theme" type="hidden" value="work_integration"'):
        assert code in html
    assert 'name="size" type="hidden" value="small"' in html
    assert 'name="next" type="hidden" value="/search?q=v%C3%A9lo&amp;country=DE&amp;country=IT' in html


def test_alerts_mail_each_new_matching_organisation_once(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, mail_folder: Path
) -> None:
    seen: set[Path] = set()
    old = _create(app, OLD_BIKES, Status.PUBLISHED)  # published before the search was saved
    waiting = _create(app, TARGETS[2], Status.PENDING)  # Polish: stored before, published later
    _sign_in(app, client)
    saved = _post(client, "/staff/saved-searches", {"q": QUERY, "name": "Bikes", "country": ["IT", "PL"]})
    assert saved.status_code == 302

    first = runner.invoke(args=["alerts", "send"])  # nothing published since
    assert first.exit_code == 0 and "1 saved searches run, 0 mails sent" in first.output
    assert _mails(mail_folder, seen) == []

    matching = _create(app, TARGETS[1], Status.PUBLISHED)  # Italian, published now
    _create(app, DISTRACTORS[0], Status.PUBLISHED)  # Belgian: outside the saved filters
    unpublished = _create(app, NEVER_PUBLISHED, Status.PENDING)
    second = runner.invoke(args=["alerts", "send"])
    assert second.exit_code == 0, second.output
    assert "1 mails sent, 1 organisations" in second.output
    [digest] = _mails(mail_folder, seen)
    body = digest.get_content()
    assert digest["To"] == "staff@cress.example" and "Bikes" in digest["Subject"]
    assert "Cooperativa Ruote Solidali" in body and f"http://localhost/staff/organisations/{matching}" in body
    for absent in ("Officina Bici Sociale", "Atelier Théâtre Insertion", "Ciclofficina", "Dwa Kółka"):
        assert absent not in body
    assert "http://localhost/search?q=atelier" in body

    third = runner.invoke(args=["alerts", "send"])
    assert third.exit_code == 0 and "0 mails sent" in third.output
    assert _mails(mail_folder, seen) == []

    with app.app_context():  # moderation publishes the Polish one, and the Italian one is archived and restored
        set_status(db.session.get(Organisation, waiting), Status.PUBLISHED, actor="staff@cress.example")
        set_status(db.session.get(Organisation, matching), Status.ARCHIVED)
        set_status(db.session.get(Organisation, matching), Status.PUBLISHED)
    fourth = runner.invoke(args=["alerts", "send", "--base-url", "https://partners.example.org"])
    assert fourth.exit_code == 0 and "1 mails sent, 1 organisations" in fourth.output
    [digest] = _mails(mail_folder, seen)
    body = digest.get_content()
    assert "Dwa Kółka" in body and f"https://partners.example.org/staff/organisations/{waiting}" in body
    for absent in ("Cooperativa Ruote Solidali", "Officina Bici Sociale", "Ciclofficina"):
        assert absent not in body

    with app.app_context():
        sent = set(db.session.scalars(select(AlertDelivery.organisation_id)))
        assert sent == {matching, waiting} and old not in sent and unpublished not in sent
        assert db.session.scalars(select(SavedSearch)).one().last_run_at is not None
        delete_organisation(db.session.get(Organisation, matching))  # its delivery goes with it
        assert db.session.scalar(select(func.count()).select_from(AlertDelivery)) == 1
