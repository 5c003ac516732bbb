"""Marshmallow fields and schema whose error messages are in the caller's language.

Marshmallow words its messages in English; these subclasses give every message a lazy
translation, so a field error reads in the language of the request like the rest of the product.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate

REQUIRED = {
    "required": _l("This field is required."),
    "null": _l("This field may not be null."),
    "validator_failed": _l("Invalid value."),
}


class Localised(Schema):
    """A schema that refuses unknown fields, in the caller's language."""

    error_messages = {"unknown": _l("Unknown field."), "type": _l("Give a JSON object.")}

    class Meta:
        unknown = RAISE


class Text(fields.String):
    default_error_messages = {**REQUIRED, "invalid": _l("Give a text."), "invalid_utf8": _l("Give a text.")}


class Integer(fields.Integer):
    default_error_messages = {**REQUIRED, "invalid": _l("Give a whole number."), "too_large": _l("Too large.")}


class DateTime(fields.DateTime):
    default_error_messages = {
        **REQUIRED,
        "invalid": _l("Give a date and time such as 2026-01-31T12:00:00."),
        "invalid_awareness": _l("Give a date and time such as 2026-01-31T12:00:00."),
        "format": _l("Give a date and time such as 2026-01-31T12:00:00."),
    }


class List(fields.List):
    default_error_messages = {**REQUIRED, "invalid": _l("Give a list.")}


class Nested(fields.Nested):
    default_error_messages = {**REQUIRED, "type": _l("Give a JSON object.")}


def length(maximum: int, minimum: int | None = None) -> validate.Length:
    message = _l("Give between {min} and {max} characters.") if minimum else _l("Give at most {max} characters.")
    return validate.Length(min=minimum, max=maximum, error=message)


def items(maximum: int) -> validate.Length:
    return validate.Length(max=maximum, error=_l("Give at most {max} values."))


def one_of(choices: Any) -> validate.OneOf:
    return validate.OneOf(list(choices), error=_l("Unknown value: {input}."))


def between(minimum: int, maximum: int) -> validate.Range:
    return validate.Range(min=minimum, max=maximum, error=_l("Give a number from {min} to {max}."))


def codes(choices: Any, maximum: int, **kwargs: Any) -> List:
    """A list of codes from a vocabulary."""
    return List(Text(validate=one_of(choices)), validate=items(maximum), **kwargs)
