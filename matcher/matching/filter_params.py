"""The search filters as page parameters: per Filters field, its repeated parameter and known codes.
The search page, saved searches and the links that re-run them all read them from here."""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.datastructures import MultiDict

from matcher.engine.language import EU_LANGUAGES
from matcher.matching.ranking import Filters
from matcher.partners.validation import KNOWN_LANGUAGES
from matcher.partners.vocabulary import EU_COUNTRIES, LEGAL_FORMS, PARTNERSHIP_TYPES, SIZES, THEMES, normalise_country

FILTER_PARAMS: dict[str, tuple[str, frozenset[str]]] = {
    "countries": ("country", frozenset(EU_COUNTRIES)),
    "legal_forms": ("legal_form", frozenset(LEGAL_FORMS)),
    "themes": ("theme", frozenset(THEMES)),
    "languages": ("language", KNOWN_LANGUAGES),
    "description_languages": ("written_in", frozenset(EU_LANGUAGES)),
    "partnership_types": ("partnership_type", frozenset(PARTNERSHIP_TYPES)),
    "sizes": ("size", frozenset(SIZES)),
}


def clean_filters(values: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each filter key with its known codes (in order, once each); unknown codes are dropped."""
    cleaned: dict[str, list[str]] = {}
    for key, (_param, known) in FILTER_PARAMS.items():
        codes = [normalise_country(c) if key == "countries" else c.strip() for c in values.get(key) or []]
        cleaned[key] = list(dict.fromkeys(code for code in codes if code in known))
    return cleaned


def read_filters(values: MultiDict[str, str]) -> dict[str, list[str]]:
    """The cleaned filters of a query string or form."""
    return clean_filters({key: values.getlist(param) for key, (param, _known) in FILTER_PARAMS.items()})


def as_filters(cleaned: dict[str, list[str]]) -> Filters:
    return Filters(**{key: tuple(cleaned.get(key, ())) for key in FILTER_PARAMS})


def filters_from_params(values: Mapping[str, list[str]]) -> Filters:
    """The Filters of values keyed by parameter name (country, theme, ...), as the API receives them."""
    return as_filters(
        clean_filters({key: list(values.get(param) or []) for key, (param, _known) in FILTER_PARAMS.items()})
    )


def as_arguments(cleaned: dict[str, list[str]]) -> dict[str, list[str]]:
    """The page parameters of cleaned filters (only those with codes)."""
    return {param: list(codes) for key, (param, _known) in FILTER_PARAMS.items() if (codes := cleaned.get(key))}
