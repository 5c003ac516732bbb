"""Pages answer in French by default and in English on request; no contact detail is ever shown."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from matcher import create_app
from matcher.partners.operations import create_organisation
from matcher.partners.vocabulary import Status
from tests.apps import SHARED_SETTINGS
from tests.partner_data import TARGETS


def _publish_targets(app: Flask) -> None:
    with app.app_context():
        for record in TARGETS:
            create_organisation(
                {**record, "contact_email": "secret@radwerk.example", "contact_name": "Heimlich"},
                status=Status.PUBLISHED,
            )


def test_home_page_in_french_by_default_and_english_on_request(app: Flask, client: FlaskClient) -> None:
    _publish_targets(app)
    french = client.get("/").get_data(as_text=True)
    assert "Trouvez des partenaires" in french and "Allemagne" in french and 'lang="fr"' in french
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert "Find partners" in english and "Germany" in english
    switched = client.get("/?lang=en").get_data(as_text=True)
    assert "Find partners" in switched
    assert "Find partners" in client.get("/").get_data(as_text=True)  # the choice is remembered


def test_search_page_shows_partners_without_contact(app: Flask, client: FlaskClient) -> None:
    _publish_targets(app)
    page = client.get("/search", query_string={"q": "réparation de vélos avec des chômeurs"}).get_data(as_text=True)
    assert "Radwerk Leipzig" in page and "Spółdzielnia Socjalna Dwa Kółka" in page
    assert "Données d'exemple" not in page  # only example organisations carry the badge
    assert "secret@radwerk.example" not in page and "Heimlich" not in page


def test_search_escapes_html(app: Flask, client: FlaskClient) -> None:
    page = client.get("/search", query_string={"q": "<script>alert(1)</script>"}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_health(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_example_organisations_are_marked(client: FlaskClient, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["examples", "load"]).exit_code == 0
    page = client.get("/search", query_string={"q": "coopérative d'énergie citoyenne"}).get_data(as_text=True)
    assert page.count("Données d'exemple") == 20


def test_security_headers_on_every_page(client: FlaskClient) -> None:
    for url in ("/", "/search?q=x", "/healthz", "/static/style.css"):
        headers = client.get(url).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_production_refuses_the_default_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHER_ENV", "production")
    monkeypatch.delenv("MATCHER_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="MATCHER_SECRET_KEY"):
        create_app()
    monkeypatch.setenv("MATCHER_SECRET_KEY", "a-long-random-production-secret")
    assert create_app().config["SECRET_KEY"] == "a-long-random-production-secret"


def test_behind_a_proxy_the_client_and_public_addresses_come_from_its_headers(app: Flask) -> None:
    settings = {key: app.config[key] for key in SHARED_SETTINGS}
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "partenaires.example.org"}

    def calls(client: FlaskClient, address: str, times: int) -> list[int]:
        headers = {**forwarded, "X-Forwarded-For": address}
        return [client.get("/api/v1/organisations", headers=headers).status_code for _ in range(times)]

    behind = create_app({**settings, "MATCHER_PROXY_HOPS": 1, "MATCHER_API_LIMIT": "2 per minute"}).test_client()
    assert calls(behind, "203.0.113.1", 3) == [200, 200, 429]
    assert calls(behind, "203.0.113.2", 1) == [200]  # another client behind the same proxy has its own limit
    limited = behind.get("/api/v1/organisations", headers={**forwarded, "X-Forwarded-For": "203.0.113.1"})
    assert limited.get_json()["type"].startswith("https://partenaires.example.org/api/v1/docs")
    # without MATCHER_PROXY_HOPS the headers are ignored: any client could forge them
    direct = create_app({**settings, "MATCHER_API_LIMIT": "2 per minute"}).test_client()
    assert calls(direct, "203.0.113.1", 2) + calls(direct, "203.0.113.2", 1) == [200, 200, 429]
