"""One validator for every way data enters: web form, import row, API, CLI.

It returns the cleaned values and, per field, a localised message; callers decide what to do
with errors (show them beside the field, or list them in an import report).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from matcher.partners.vocabulary import (
    EU_COUNTRIES,
    LEGAL_FORMS,
    PARTNERSHIP_TYPES,
    SIZES,
    THEMES,
    normalise_country,
)

LIMITS = {
    "name": 200,
    "region": 300,
    "city": 120,
    "website": 300,
    "description": 5000,
    "offers": 2000,
    "seeks": 2000,
    "contact_name": 200,
    "contact_email": 254,
    "source_reference": 200,
}
MIN_DESCRIPTION = 30
MAX_THEMES = 5
MAX_LANGUAGES = 12
LIST_SEPARATORS = re.compile(r"[;,|]")
KNOWN_LANGUAGES = frozenset(code for code in Locale("en").languages if len(code) == 2)


@dataclass
class Validated:
    """Cleaned values plus the message of each field that failed."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def as_list(value: object) -> list[str]:
    """Lists arrive as lists (forms, JSON) or as 'a; b, c' strings (CSV, XLSX)."""
    if value is None:
        return []
    items: Iterable[object] = LIST_SEPARATORS.split(value) if isinstance(value, str) else value  # type: ignore[assignment]
    return [str(item).strip().lower() for item in items if str(item).strip()]


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _codes(result: Validated, name: str, raw: object, allowed: Iterable[str], limit: int | None = None) -> None:
    codes = list(dict.fromkeys(as_list(raw)))
    allowed = set(allowed)
    unknown = [code for code in codes if code not in allowed]
    if unknown:
        result.errors[name] = _("Unknown value(s): %(values)s.", values=", ".join(unknown))
    elif limit is not None and len(codes) > limit:
        result.errors[name] = _("Choose at most %(limit)d.", limit=limit)
    result.values[name] = codes


def _choice(result: Validated, name: str, raw: object, allowed: Iterable[str], default: str) -> None:
    value = _text(raw).lower() or default
    if value not in set(allowed) | {default}:
        result.errors[name] = _("Unknown value: %(value)s.", value=value)
    result.values[name] = value


def _web_address(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed "[" read as an IPv6 address
        return False
    return parts.scheme in ("http", "https") and "." in parts.netloc


def validate_organisation(data: Mapping[str, object], require_contact: bool = False) -> Validated:
    """Check and clean one organisation's fields."""
    result = Validated()
    for name, limit in LIMITS.items():
        value = _text(data.get(name))
        result.values[name] = value
        if len(value) > limit:
            result.errors[name] = _("At most %(limit)d characters (now %(count)d).", limit=limit, count=len(value))

    values = result.values
    if len(values["name"]) < 2:
        result.errors["name"] = _("Give the organisation's name.")
    if len(values["description"]) < MIN_DESCRIPTION:
        result.errors["description"] = _(
            "Describe the organisation in at least %(minimum)d characters.", minimum=MIN_DESCRIPTION
        )

    country = normalise_country(_text(data.get("country")))
    values["country"] = country
    if country not in EU_COUNTRIES:
        result.errors["country"] = (
            _("Choose the country.") if not country else _("%(code)s is not an EU member state.", code=country)
        )

    website = values["website"]
    if website and "://" not in website:
        website = values["website"] = f"https://{website}"
    if website and not _web_address(website):
        result.errors["website"] = _("Give a web address such as https://example.org.")

    email = values["contact_email"]
    if email:
        try:
            values["contact_email"] = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            result.errors["contact_email"] = _("Give a valid email address.")
    elif require_contact:
        result.errors["contact_email"] = _("Give an email address so that we can reach you.")
    if require_contact and not values["contact_name"]:
        result.errors["contact_name"] = _("Give the name of a contact person.")

    _choice(result, "legal_form", data.get("legal_form"), LEGAL_FORMS, "other")
    _choice(result, "size", data.get("size"), SIZES, "")
    _codes(result, "themes", data.get("themes"), THEMES, MAX_THEMES)
    _codes(result, "partnership_types", data.get("partnership_types"), PARTNERSHIP_TYPES)
    _codes(result, "languages", data.get("languages"), KNOWN_LANGUAGES, MAX_LANGUAGES)
    language = _text(data.get("description_language")).lower()
    if language and language not in KNOWN_LANGUAGES:
        result.errors["description_language"] = _("Unknown value: %(value)s.", value=language)
    values["description_language"] = language
    return result
