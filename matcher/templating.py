"""Helpers that templates use to turn stored codes into words in the reader's language."""

from __future__ import annotations

from babel import Locale
from flask import Flask, request, url_for
from flask_babel import get_locale
from wtforms import Field

from matcher.introductions.models import STATUS_LABELS as INTRODUCTION_STATUS_LABELS
from matcher.matching.explain import PART_LABELS, reasons
from matcher.partners.vocabulary import (
    PARTNERSHIP_TYPES,
    SIZES,
    country_name,
    language_name,
    legal_form_label,
    theme_label,
)
from matcher.staff.moderation import (
    ACTION_LABELS,
    DUPLICATE_REASONS,
    IMPORT_STATUSES,
    SOURCE_LABELS,
    STATUS_LABELS,
)

# Scores (cosines of language-centred e5 vectors) lie around 0 for unrelated texts; a description's best
# matches score about 0.3-0.5. The bar shows where a score lies between the two (docs/quality.md section 3).
SCORE_FLOOR = 0.0
SCORE_CEILING = 0.5


def _current_locale() -> str:
    return str(get_locale() or "fr")


def _language_name_in(code: str) -> str:
    """A language's own name, for the language switcher."""
    return Locale(code).display_name.capitalize()


def _url_in_language(code: str) -> str:
    """The current page (with its query, e.g. filters) in another interface language."""
    arguments = request.args.to_dict(flat=False)
    arguments["lang"] = [code]
    return url_for(request.endpoint or "public.home", **(request.view_args or {}), **arguments)


def _aria_attributes(field: Field) -> dict[str, str]:
    """Ties a field to its hint and error message, and marks it invalid when it has an error."""
    described = [f"{field.id}-hint"] if field.description else []
    attributes = {}
    if field.errors:
        described.append(f"{field.id}-error")
        attributes["aria-invalid"] = "true"
    if described:
        attributes["aria-describedby"] = " ".join(described)
    return attributes


def _score_percent(score: float) -> int:
    return max(0, min(100, round(100 * (score - SCORE_FLOOR) / (SCORE_CEILING - SCORE_FLOOR))))


def init_app(app: Flask) -> None:
    labels = {
        "country_name": country_name,
        "language_name": language_name,
        "legal_form_label": legal_form_label,
        "theme_label": theme_label,
        "partnership_label": lambda code: PARTNERSHIP_TYPES.get(code, code),
        "size_label": lambda code: SIZES.get(code, code),
        "part_label": lambda part: PART_LABELS.get(part, part),
        "introduction_status_label": lambda code: INTRODUCTION_STATUS_LABELS.get(code, code),
        "status_label": lambda code: STATUS_LABELS.get(code, code),
        "action_label": lambda code: ACTION_LABELS.get(code, code),
        "source_label": lambda code: SOURCE_LABELS.get(code, code),
        "duplicate_reason_label": lambda code: DUPLICATE_REASONS.get(code, code),
        "import_status_label": lambda code: IMPORT_STATUSES.get(code, code),
    }
    app.jinja_env.filters.update(labels)
    app.jinja_env.globals.update(labels)
    app.jinja_env.globals.update(
        current_locale=_current_locale,
        language_name_in=_language_name_in,
        url_in_language=_url_in_language,
        score_percent=_score_percent,
        why_reasons=reasons,
        aria_attributes=_aria_attributes,
    )
