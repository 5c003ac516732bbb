"""The back-office: only staff get in, admins alone manage accounts; moderation keeps the index
consistent with the database; every change leaves an audit entry; introductions go from request
to the target's consent by email."""

from __future__ import annotations

import email
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from matcher.extensions import db
from matcher.introductions.models import IntroductionRequest, IntroductionStatus
from matcher.matching import Profile, match
from matcher.partners.audit import AuditEntry
from matcher.partners.models import Organisation
from matcher.partners.operations import create_organisation
from matcher.partners.vocabulary import Status
from matcher.staff.accounts import create_staff
from matcher.staff.models import StaffUser
from tests.partner_data import TARGETS
from tests.web import csrf_token, page_text, publish_partners, submit, submit_profile, translated

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def mail_folder(app: Flask, tmp_path: Path) -> Path:
    app.config["MATCHER_MAIL_FOLDER"] = str(tmp_path / "mail")
    return tmp_path / "mail"


def _account(app: Flask, address: str, admin: bool = False) -> None:
    with app.app_context():
        create_staff(address, PASSWORD, is_admin=admin)


def _sign_in(app: Flask, client: FlaskClient, address: str = "staff@cress.example", admin: bool = False) -> None:
    _account(app, address, admin)
    response = submit(client, "/staff/login", {"email": address, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"


def _organisation(app: Flask, name: str) -> Organisation:
    with app.app_context():
        return db.session.scalars(select(Organisation).where(Organisation.name == name)).one()


def _values(app: Flask) -> dict[str, int]:
    """Any existing id for every URL variable of the back-office."""
    publish_partners(app)
    with app.app_context():
        organisation_id = db.session.scalars(select(Organisation.id)).first()
        user_id = db.session.scalars(select(StaffUser.id)).first() or 1
    return {
        "organisation_id": organisation_id,
        "request_id": 1,
        "user_id": user_id,
        "flag_id": 1,
        "job_id": 1,
        "shortlist_id": 1,
        "saved_search_id": 1,
        "token_id": 1,
        "kind": "csv",
    }


def _staff_urls(app: Flask, values: dict[str, int]) -> list[tuple[str, str, str]]:
    """Every route under /staff/, whatever its blueprint (shortlists and saved searches have their own)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff/") and rule.endpoint != "staff.login":
            url = rule.build({name: values[name] for name in rule.arguments})[1]
            urls += [(rule.endpoint, method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return urls


def test_every_back_office_url_refuses_anonymous_visitors(app: Flask, client: FlaskClient) -> None:
    urls = _staff_urls(app, _values(app))
    assert len(urls) >= 10
    token = csrf_token(client, "/staff/login")
    for endpoint, method, url in urls:
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert response.headers["Location"].startswith("/staff/login"), endpoint


def test_admin_pages_refuse_staff_without_the_admin_role(app: Flask, client: FlaskClient) -> None:
    values = _values(app)
    _sign_in(app, client)
    token = csrf_token(client, "/staff/")
    admin_only = [
        (endpoint, method, url)
        for endpoint, method, url in _staff_urls(app, values)
        if getattr(app.view_functions[endpoint], "admin_only", False)
    ]
    assert {endpoint for endpoint, _, _ in admin_only} == {"staff.staff_accounts", "staff.change_role"}
    for endpoint, method, url in admin_only:
        assert client.open(url, method=method, data={"csrf_token": token}).status_code == 403, endpoint
    for endpoint, method, url in _staff_urls(app, values):
        if method == "GET" and (endpoint, method, url) not in admin_only:
            response = client.get(url)  # a page, a missing record, or a redirect elsewhere than sign-in
            assert response.status_code in (200, 302, 404), endpoint
            assert not response.headers.get("Location", "").startswith("/staff/login"), endpoint


def test_staff_create_command_stores_a_scrypt_hash(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["staff", "create", "Admin@CRESS.example", "--admin", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(select(StaffUser)).one()
    assert user.email == "admin@cress.example" and user.is_admin
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    short = runner.invoke(args=["staff", "create", "b@cress.example", "--password", "short"])
    assert short.exit_code != 0 and "12" in short.output


def test_repeated_wrong_passwords_lock_the_account(app: Flask, client: FlaskClient) -> None:
    _account(app, "staff@cress.example")
    for _ in range(5):
        wrong = submit(client, "/staff/login", {"email": "staff@cress.example", "password": "wrong password!"})
        assert wrong.status_code == 200
    right = submit(client, "/staff/login", {"email": "staff@cress.example", "password": PASSWORD})
    assert right.status_code == 200 and client.get("/staff/").status_code == 302
    message = "Unknown address or wrong password, or the account is locked for a while after repeated failures."
    assert translated(app, message) in page_text(right)


def test_sign_in_attempts_are_rate_limited_per_address(app: Flask, client: FlaskClient) -> None:
    app.config["MATCHER_LOGIN_LIMIT"] = "3 per minute"
    codes = [
        submit(client, "/staff/login", {"email": f"x{i}@cress.example", "password": "x"}).status_code for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_sign_out_ends_the_session(app: Flask, client: FlaskClient) -> None:
    _sign_in(app, client)
    assert client.get("/staff/").status_code == 200
    assert client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")}).status_code == 302
    assert client.get("/staff/").status_code == 302


def test_publishing_makes_a_profile_findable_at_once_and_archiving_hides_it(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    submit_profile(client)  # French, pending
    profile = _organisation(app, "Atelier Vélo Solidaire")
    _sign_in(app, client)
    dashboard = page_text(client.get("/staff/"))
    assert "Atelier Vélo Solidaire" in dashboard and translated(app, "Pending profiles, oldest first") in dashboard
    radwerk = _organisation(app, "Radwerk Leipzig")

    def found() -> bool:
        with app.app_context():
            return profile.id in {r.organisation.id for r in match(Profile.of(db.session.merge(radwerk)), k=50)}

    assert not found()
    url = f"/staff/organisations/{profile.id}/status"
    token = csrf_token(client, f"/staff/organisations/{profile.id}")
    assert client.post(url, data={"csrf_token": token, "action": "publish"}).status_code == 302
    assert found()
    client.post(url, data={"csrf_token": token, "action": "archive", "note": "closed down"})
    assert not found()
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.organisation_id == profile.id)).all()
    assert [(e.action, e.changes.get("status"), e.actor) for e in entries[1:]] == [
        ("status", ["pending", "published"], "staff@cress.example"),
        ("status", ["published", "archived"], "staff@cress.example"),
    ]
    assert entries[-1].note == "closed down"


def test_rejection_needs_a_reason_and_publication_needs_consent(app: Flask, client: FlaskClient) -> None:
    submit_profile(client, consent_publication="")
    profile = _organisation(app, "Atelier Vélo Solidaire")
    _sign_in(app, client)
    page = f"/staff/organisations/{profile.id}"
    token = csrf_token(client, page)
    client.post(f"{page}/status", data={"csrf_token": token, "action": "publish"})
    refused = page_text(client.get(page))
    assert translated(app, "This enterprise did not agree to publication: it can only receive suggestions.") in refused
    client.post(f"{page}/status", data={"csrf_token": token, "action": "reject"})
    assert translated(app, "Give the reason for the rejection.") in page_text(client.get(page))
    assert _organisation(app, "Atelier Vélo Solidaire").status == Status.PENDING
    client.post(f"{page}/status", data={"csrf_token": token, "action": "reject", "note": "not an ESS organisation"})
    assert _organisation(app, "Atelier Vélo Solidaire").status == Status.REJECTED


def test_staff_edits_are_re_embedded_indexed_and_audited_field_by_field(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)
    radwerk = _organisation(app, "Radwerk Leipzig")
    _sign_in(app, client)
    edit = f"/staff/organisations/{radwerk.id}/edit"
    form = client.get(edit).get_data(as_text=True)
    assert 'value="Radwerk Leipzig"' in form
    new_description = (
        "Energiegenossenschaft in Leipzig: Bürgerinnen und Bürger finanzieren gemeinsam Solaranlagen auf Schuldächern."
    )
    data = {**TARGETS[0], "description": new_description, "city": "Leipzig", "themes": ["energy"]}
    assert submit(client, edit, data).status_code == 302
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "edited")).one()
        results = match(Profile(description="Coopérative citoyenne d'énergie solaire", country="FR"), k=1)
    assert entry.actor == "staff@cress.example" and entry.changes["city"] == ["", "Leipzig"]
    assert entry.changes["description"][1] == new_description
    assert entry.changes["themes"] == [["work_integration", "circular_economy"], ["energy"]]
    assert results[0].organisation.name == "Radwerk Leipzig"
    history = page_text(client.get(f"/staff/organisations/{radwerk.id}"))
    assert "staff@cress.example" in history and new_description in history
    invalid = submit(client, edit, {**data, "name": "", "description": "too short"})
    assert invalid.status_code == 422 and "too short</textarea>" in invalid.get_data(as_text=True)


def test_an_introduction_goes_from_request_to_consent_and_shares_contacts_only_then(
    app: Flask, client: FlaskClient, mail_folder: Path
) -> None:
    with app.app_context():
        target = create_organisation(
            {**TARGETS[0], "contact_name": "Jana Richter", "contact_email": "jana@radwerk.example"},
            status=Status.PUBLISHED,
        )
        target_id = target.id
    requester_link = submit_profile(client)
    token = requester_link.split("/")[2]
    submit(client, f"/profile/{token}/introductions/{target_id}", {"message": "Échangeons nos méthodes !"})

    staff = client.application.test_client()
    _sign_in(app, staff)
    queue = page_text(staff.get("/staff/introductions"))
    assert "Échangeons nos méthodes !" in queue
    request_id = _only_request(app).id
    staff.post(
        f"/staff/introductions/{request_id}",
        data={"csrf_token": csrf_token(staff, "/staff/introductions"), "action": "forward"},
    )
    assert _only_request(app).status == IntroductionStatus.FORWARDED

    [consent_mail] = _mails(mail_folder)
    assert consent_mail["To"] == "jana@radwerk.example"
    body = consent_mail.get_payload(decode=True).decode()
    assert "Atelier Vélo Solidaire" in body and "Échangeons nos méthodes !" in body
    assert "marie@atelier-velo.example" not in body  # the requester's contact only after consent
    link = re.search(r"http://localhost(/introductions/answer/\S+)", body).group(1)

    target_side = client.application.test_client()
    page = page_text(target_side.get(link))
    assert "Atelier Vélo Solidaire" in page and "marie@atelier-velo.example" not in page
    answer_token = csrf_token(target_side, link)
    target_side.post(link, data={"csrf_token": answer_token, "accept": "1"})
    assert _only_request(app).status == IntroductionStatus.ACCEPTED
    sent: dict[str, str] = {}  # everything each address received (file names carry no order)
    for mail in _mails(mail_folder):
        sent[mail["To"]] = sent.get(mail["To"], "") + mail.get_payload(decode=True).decode()
    assert "marie@atelier-velo.example" in sent["jana@radwerk.example"]
    assert "jana@radwerk.example" in sent["marie@atelier-velo.example"]
    again = target_side.post(link, data={"csrf_token": answer_token, "refuse": "1"})
    assert again.status_code == 302 and _only_request(app).status == IntroductionStatus.ACCEPTED


def test_forwarding_needs_a_contact_email_and_declining_keeps_the_note(app: Flask, client: FlaskClient) -> None:
    publish_partners(app)  # partners with a contact email
    token = submit_profile(client).split("/")[2]
    radwerk = _organisation(app, "Radwerk Leipzig")
    submit(client, f"/profile/{token}/introductions/{radwerk.id}", {"message": ""})
    _sign_in(app, client)
    request_id = _only_request(app).id
    client.post(
        f"/staff/introductions/{request_id}",
        data={"csrf_token": csrf_token(client, "/staff/introductions"), "action": "decline", "note": "not relevant"},
    )
    declined = _only_request(app)
    assert declined.status == IntroductionStatus.DECLINED and declined.staff_note == "not relevant"
    assert declined.handled_by == "staff@cress.example"
    with app.app_context():
        orphan = create_organisation({**TARGETS[1], "name": "Sans contact"}, status=Status.PUBLISHED)
        orphan_id = orphan.id
    submit(client, f"/profile/{token}/introductions/{orphan_id}", {"message": ""})
    with app.app_context():
        new = db.session.scalars(select(IntroductionRequest).where(IntroductionRequest.target_id == orphan_id)).one()
        new_id = new.id
    client.post(
        f"/staff/introductions/{new_id}",
        data={"csrf_token": csrf_token(client, "/staff/introductions"), "action": "forward"},
    )
    message = "This organisation has no contact email: add one before forwarding."
    assert translated(app, message) in page_text(client.get("/staff/introductions"))


def test_admins_create_accounts_and_cannot_demote_themselves(app: Flask, client: FlaskClient) -> None:
    _sign_in(app, client, "admin@cress.example", admin=True)
    token = csrf_token(client, "/staff/accounts")
    created = client.post(
        "/staff/accounts", data={"csrf_token": token, "email": "new@cress.example", "password": PASSWORD}
    )
    assert created.status_code == 302
    with app.app_context():
        me = db.session.scalars(select(StaffUser).where(StaffUser.email == "admin@cress.example")).one().id
    client.post(f"/staff/accounts/{me}", data={"csrf_token": token, "active": "y"})
    with app.app_context():
        assert db.session.get(StaffUser, me).is_admin


def _only_request(app: Flask) -> IntroductionRequest:
    with app.app_context():
        return db.session.scalars(select(IntroductionRequest)).one()


def _mails(folder: Path) -> list[email.message.Message]:
    return [email.message_from_bytes(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]
