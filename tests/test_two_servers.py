"""Two gunicorn servers (think: two hosts behind a load balancer) on one database, each with its own
index replica in its own folder. A change written through one is found by searches on the other
within a second, with no rebuild: each replica follows the change sequence in the database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from tests.apps import free_port
from tests.partner_data import TARGETS
from tests.test_api import _token
from tests.web import publish_partners

REPO = Path(__file__).resolve().parents[1]
VISIBLE_WITHIN = 1.0  # seconds
START_TIMEOUT = 120.0


def _serve(app: Flask, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MATCHER_MODEL": app.config["MATCHER_MODEL"],
        "MATCHER_CENTERING_PATH": app.config["MATCHER_CENTERING_PATH"],
        "MATCHER_INSTANCE_PATH": str(folder),
        "MATCHER_API_LIMIT": "10000 per minute",
    }
    folder.mkdir()
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "wsgi:app"]
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def _wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> float:
    """Seconds until the condition held; fails after the timeout."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "condition not met in time"
        time.sleep(step)
    return time.monotonic() - start


@pytest.fixture()
def servers(app: Flask, tmp_path: Path) -> Iterator[list[str]]:
    publish_partners(app)
    started = [_serve(app, tmp_path / name) for name in ("host-a", "host-b")]
    try:
        for process, url in started:

            def ready(url: str = url, process: subprocess.Popen[bytes] = process) -> bool:
                assert process.poll() is None, "the server stopped"
                try:
                    return requests.get(f"{url}/api/v1/openapi.json", timeout=2).status_code == 200
                except requests.RequestException:
                    return False

            _wait_until(ready, START_TIMEOUT, step=0.5)
        yield [url for _process, url in started]
    finally:
        for process, _url in started:
            process.terminate()
            process.wait(timeout=30)


def test_a_change_through_one_server_is_searchable_on_the_other_within_a_second(app: Flask, servers: list[str]) -> None:
    first, second = servers
    auth = {"Authorization": f"Bearer {_token(app, 'write')}"}
    name = "Vélocyclerie Zwei Server"
    record = {**TARGETS[0], "name": name, "country": "AT"}

    def names(url: str, query: str) -> set[str]:
        response = requests.get(f"{url}/api/v1/search", params={"q": query, "per_page": 100}, timeout=10)
        return {r["organisation"]["name"] for r in response.json()["results"]}

    assert name not in names(second, name)
    created = requests.post(f"{first}/api/v1/organisations", json=record, headers=auth, timeout=30).json()
    requests.post(f"{first}/api/v1/organisations/{created['id']}/publish", headers=auth, timeout=30).raise_for_status()
    assert _wait_until(lambda: name in names(second, name), VISIBLE_WITHIN) < VISIBLE_WITHIN

    # an edit of the text is followed too (by meaning: the new words are found, the old ones no more)
    text = "Gemeinschaftsgarten und Imkerei auf Dächern in Wien: Honig, Bienenschutz und Umweltbildung für Schulen."
    changed = requests.patch(
        f"{first}/api/v1/organisations/{created['id']}", json={"description": text}, headers=auth, timeout=30
    )
    changed.raise_for_status()
    assert _wait_until(lambda: name in names(second, "Imkerei Honig Bienen"), VISIBLE_WITHIN) < VISIBLE_WITHIN

    requests.post(f"{first}/api/v1/organisations/{created['id']}/archive", headers=auth, timeout=30).raise_for_status()
    assert _wait_until(lambda: name not in names(second, name), VISIBLE_WITHIN) < VISIBLE_WITHIN
