"""Every user-facing message is translated, in every shipped catalog, and none is fuzzy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from matcher.config import load_config

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
CATALOGS = sorted((ROOT / "translations").glob("*/LC_MESSAGES/messages.po"))


def _key(message_id: str | tuple[str, ...]) -> str:
    """A plural message is known by its singular form."""
    return message_id if isinstance(message_id, str) else message_id[0]


@pytest.fixture(scope="module")
def source_messages() -> set[str]:
    """Messages extracted from the code now (as `make catalogs-update` does), so a new string fails."""
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    found = extract_from_dir(ROOT / "matcher", method_map, keywords=keywords)
    return {_key(message) for _, _, message, _, _ in found}


def test_every_interface_language_has_a_catalog() -> None:
    languages = load_config(ROOT / "instance")["LANGUAGES"]
    assert {"fr", "en", "de", "es", "it", "nl", "pl"} <= set(languages)
    assert {path.parts[-3] for path in CATALOGS} == set(languages)


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parts[-3])
def test_catalog_is_complete(path: Path, source_messages: set[str]) -> None:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    translated = {_key(m.id) for m in catalog if m.id and all(m.string if isinstance(m.string, tuple) else [m.string])}
    fuzzy = [str(m.id) for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy in {path}: {fuzzy}"
    assert not source_messages - translated, f"untranslated in {path}: {sorted(source_messages - translated)}"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parts[-3])
def test_translations_keep_the_placeholders(path: Path) -> None:
    """A translation that drops or renames %(name)s would fail when the page is rendered."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        allowed = set().union(*(PLACEHOLDER.findall(text) for text in ids))
        wrong += [text for text in strings if text and not set(PLACEHOLDER.findall(text)) <= allowed]
        if len(ids) == 1 and strings[0] and set(PLACEHOLDER.findall(strings[0])) != allowed:
            wrong.append(strings[0])
    assert not wrong, f"placeholders changed in {path}: {wrong}"
