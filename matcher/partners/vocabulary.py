"""Controlled vocabularies of the partner database: codes are stored, labels are translated."""

from __future__ import annotations

from enum import StrEnum

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

EU_COUNTRIES: tuple[str, ...] = (
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
)
# The EU's own abbreviation for Greece; accepted on input, stored as ISO 3166 "GR".
COUNTRY_ALIASES: dict[str, str] = {"EL": "GR"}


class Status(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    ARCHIVED = "archived"


class Source(StrEnum):
    SELF = "self"
    STAFF = "staff"
    IMPORT = "import"


LEGAL_FORMS = {
    "association": _l("Association"),
    "cooperative": _l("Cooperative"),
    "mutual": _l("Mutual"),
    "foundation": _l("Foundation"),
    "social_enterprise": _l("Commercial ESS company / social enterprise"),
    "other": _l("Other"),
}

SIZES = {
    "micro": _l("Fewer than 10 people"),
    "small": _l("10 to 49 people"),
    "medium": _l("50 to 249 people"),
    "large": _l("250 people or more"),
}

PARTNERSHIP_TYPES = {
    "trade": _l("Trade and supply"),
    "eu_project": _l("Joint EU project"),
    "knowledge_exchange": _l("Knowledge exchange"),
    "mobility": _l("Staff or volunteer mobility"),
    "network": _l("Network membership"),
    "financing": _l("Financing"),
}

THEMES = {
    "work_integration": _l("Work integration"),
    "disability": _l("Disability and inclusion"),
    "youth": _l("Youth"),
    "ageing_care": _l("Ageing and care"),
    "health": _l("Health"),
    "housing": _l("Housing"),
    "food_agriculture": _l("Food and sustainable agriculture"),
    "circular_economy": _l("Circular economy, reuse and repair"),
    "energy": _l("Renewable energy and energy communities"),
    "mobility_transport": _l("Mobility and transport"),
    "culture": _l("Culture and creative activities"),
    "education_training": _l("Education and training"),
    "fair_trade": _l("Fair trade"),
    "solidarity_finance": _l("Solidarity finance"),
    "local_development": _l("Local and rural development"),
    "migrants_refugees": _l("Migrants and refugees"),
    "digital_inclusion": _l("Digital inclusion"),
    "gender_equality": _l("Gender equality"),
    "social_tourism": _l("Social and sustainable tourism"),
    "environment": _l("Environment and biodiversity"),
}


def _locale() -> Locale:
    return get_locale() or Locale("fr")


def country_name(code: str) -> str:
    """Name of a country in the user's language, from Babel's CLDR data."""
    return _locale().territories.get(code, code)


def language_name(code: str) -> str:
    """Name of a language in the user's language, from Babel's CLDR data."""
    return _locale().languages.get(code, code)


def legal_form_label(code: str) -> str:
    return str(LEGAL_FORMS.get(code, code))


def theme_label(code: str) -> str:
    return str(THEMES.get(code, code))


def normalise_country(value: str) -> str:
    """Upper-case ISO code with the EU alias for Greece folded in."""
    code = value.strip().upper()
    return COUNTRY_ALIASES.get(code, code)
