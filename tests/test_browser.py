"""End to end in a real headless browser: a French enterprise fills the form and sees a partner abroad.

Playwright drives Debian's chromium (no browser download here); the test skips with a clear message
where /usr/bin/chromium is absent. `.ci/run` installs it so that CI always runs this test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.web import PROFILE_FR, publish_partners, translated

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: apt-get install chromium")


@pytest.fixture()
def server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port."""
    publish_partners(app)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join()


def test_french_enterprise_finds_a_partner_abroad_in_a_real_browser(app: Flask, server: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(locale="fr-FR", viewport={"width": 1000, "height": 900})
        page.goto(f"{server}/")
        page.get_by_role("link", name=translated(app, "Describe your organisation and find partners")).click()
        page.get_by_label(translated(app, "Name of the organisation")).fill(PROFILE_FR["name"])
        page.get_by_label(translated(app, "Country")).select_option("FR")
        page.get_by_label(translated(app, "City or town")).fill(PROFILE_FR["city"])
        page.get_by_label(translated(app, "Describe your organisation")).fill(PROFILE_FR["description"])
        page.get_by_label(translated(app, "What you are looking for in a partner")).fill(PROFILE_FR["seeks"])
        page.get_by_label(translated(app, "Work integration")).check()
        page.get_by_label(translated(app, "Contact person")).fill(PROFILE_FR["contact_name"])
        page.get_by_label(translated(app, "Contact email")).fill(PROFILE_FR["contact_email"])
        page.locator("#consent_processing").check()
        page.get_by_role("button", name=translated(app, "See my partners")).click()
        page.wait_for_url("**/matches")

        german = page.locator("li.match", has_text="Radwerk Leipzig")
        sync_api.expect(german).to_contain_text("Allemagne")
        sync_api.expect(german).to_contain_text(translated(app, "their activity is close to yours"))
        sync_api.expect(page.locator("body")).not_to_contain_text("Atelier Vélo Solidaire de Lyon")
        page.screenshot(path=str(SCREENSHOTS / "matches-fr.png"), full_page=True)

        phone = browser.new_page(locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True)
        phone.goto(f"{server}/find-partners")
        sync_api.expect(phone.get_by_label(translated(app, "Name of the organisation"))).to_be_visible()
        phone.screenshot(path=str(SCREENSHOTS / "form-phone-fr.png"))
        browser.close()
