"""Helpers that templates use to turn stored codes into words in the reader's language."""

from __future__ import annotations

from babel import Locale
from flask import Flask
from flask_babel import get_locale

from matcher.matching.explain import PART_LABELS
from matcher.partners.vocabulary import LEGAL_FORMS, country_name, language_name


def _current_locale() -> str:
    return str(get_locale() or "fr")


def _language_name_in(code: str) -> str:
    """A language's own name, for the language switcher."""
    return Locale(code).display_name.capitalize()


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        current_locale=_current_locale,
        language_name_in=_language_name_in,
        country_name=country_name,
        language_name=language_name,
        legal_form_label=lambda code: LEGAL_FORMS.get(code, code),
        part_label=lambda part: PART_LABELS.get(part, part),
    )
