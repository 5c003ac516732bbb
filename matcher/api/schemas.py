"""What goes in and out of the API, as marshmallow schemas: they validate requests, shape
responses, and are the source of the OpenAPI document (so the description cannot drift)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as plain

from matcher.api.fields import (
    DateTime,
    Integer,
    List,
    Localised,
    Nested,
    Text,
    between,
    codes,
    items,
    length,
    one_of,
)
from matcher.api.tokens import MAX_SECRET
from matcher.consortia.forms import MAX_CALL, MAX_MEMBERS
from matcher.engine.language import EU_LANGUAGES
from matcher.introductions.operations import MAX_MESSAGE
from matcher.matching.filter_params import FILTER_PARAMS
from matcher.partners.validation import KNOWN_LANGUAGES, LIMITS, MAX_LANGUAGES, MAX_THEMES, MIN_DESCRIPTION
from matcher.partners.vocabulary import (
    COUNTRY_ALIASES,
    EU_COUNTRIES,
    LEGAL_FORMS,
    PARTNERSHIP_TYPES,
    SIZES,
    THEMES,
    Status,
)

MAX_MATCHES = 50
MAX_PER_PAGE = 100
MAX_QUERY = 500
MAX_IDS = 50
COUNTRIES = sorted(EU_COUNTRIES + tuple(COUNTRY_ALIASES))
SPOKEN = sorted(KNOWN_LANGUAGES)


def _text(name: str, **kwargs: Any) -> Text:
    return Text(validate=length(LIMITS[name]), **kwargs)


# ---- requests -------------------------------------------------------------------------------------

FilterSchema = Localised.from_dict(
    {param: codes(sorted(known), len(known), load_default=list) for param, known in FILTER_PARAMS.values()},
    name="Filters",
)


class ProfileSchema(Localised):
    """The asking organisation, as it would describe itself (nothing is stored)."""

    description = Text(required=True, validate=length(LIMITS["description"], MIN_DESCRIPTION))
    country = Text(required=True, validate=one_of(COUNTRIES), metadata={"description": "ISO 3166 code (EL for GR)."})
    offers = _text("offers", load_default="")
    seeks = _text("seeks", load_default="")
    language = Text(
        validate=one_of(["", *EU_LANGUAGES]), load_default="", metadata={"description": "Detected when empty."}
    )
    themes = codes(sorted(THEMES), MAX_THEMES, load_default=list)
    languages = codes(SPOKEN, MAX_LANGUAGES, load_default=list)
    partnership_types = codes(sorted(PARTNERSHIP_TYPES), len(PARTNERSHIP_TYPES), load_default=list)


class MatchRequestSchema(Localised):
    profile = Nested(ProfileSchema, required=True)
    filters = Nested(FilterSchema, load_default=dict)
    limit = Integer(load_default=10, validate=between(1, MAX_MATCHES))
    per_country = Integer(
        load_default=None,
        allow_none=True,
        validate=between(1, MAX_MATCHES),
        metadata={"description": "At most this many partners from one country."},
    )


class PageArgsSchema(Localised):
    page = Integer(load_default=1, validate=between(1, 100_000))
    per_page = Integer(load_default=20, validate=between(1, MAX_PER_PAGE))


class SearchArgsSchema(PageArgsSchema, FilterSchema):
    q = Text(required=True, validate=length(MAX_QUERY, 1), metadata={"description": "In any EU language."})


class OrganisationListArgsSchema(PageArgsSchema, FilterSchema):
    status = codes(
        [str(s) for s in Status],
        len(Status),
        load_default=list,
        metadata={"description": "Staff tokens only; without a token only published organisations are listed."},
    )
    updated_since = DateTime(load_default=None, metadata={"description": "Only organisations changed since then."})


class OrganisationInputSchema(Localised):
    """An organisation's fields; the partner database's own validator checks them further."""

    name = Text(required=True, validate=length(LIMITS["name"]))
    country = Text(required=True, validate=one_of(COUNTRIES))
    region = _text("region")
    city = _text("city")
    website = _text("website")
    legal_form = Text(validate=one_of(sorted(LEGAL_FORMS)))
    size = Text(validate=one_of(["", *sorted(SIZES)]))
    languages = codes(SPOKEN, MAX_LANGUAGES)
    description = Text(required=True, validate=length(LIMITS["description"]))
    description_language = Text(validate=one_of(["", *SPOKEN]))
    offers = _text("offers")
    seeks = _text("seeks")
    partnership_types = codes(sorted(PARTNERSHIP_TYPES), len(PARTNERSHIP_TYPES))
    themes = codes(sorted(THEMES), MAX_THEMES)
    contact_name = _text("contact_name")
    contact_email = _text("contact_email")
    source_reference = _text("source_reference")


class OrganisationChangesSchema(OrganisationInputSchema):
    """The fields to change (used partially: every field is optional)."""


class NoteSchema(Localised):
    note = Text(load_default="", validate=length(1000))


class ConsortiumRequestSchema(Localised):
    call = Text(required=True, validate=length(MAX_CALL, 10), metadata={"description": "The call's aim, any language."})
    size = Integer(load_default=5, validate=between(1, MAX_MEMBERS))
    min_countries = Integer(load_default=3, validate=between(1, MAX_MEMBERS))
    max_per_country = Integer(load_default=None, allow_none=True, validate=between(1, MAX_MEMBERS))
    legal_forms = codes(sorted(LEGAL_FORMS), len(LEGAL_FORMS), load_default=list)
    themes = codes(sorted(THEMES), len(THEMES), load_default=list)
    include = List(Integer(validate=between(1, 2**31 - 1)), load_default=list, validate=items(MAX_MEMBERS))
    swap = List(
        Integer(validate=between(1, 2**31 - 1)),
        load_default=list,
        validate=items(MAX_IDS),
        metadata={"description": "Members to replace by the next best, in order."},
    )


class IntroductionInputSchema(Localised):
    requester_token = Text(
        validate=length(MAX_SECRET),
        metadata={"description": "The token of the requester's private link (or requester_id with a write token)."},
    )
    requester_id = Integer(validate=between(1, 2**31 - 1))
    target_id = Integer(required=True, validate=between(1, 2**31 - 1))
    message = Text(load_default="", validate=length(MAX_MESSAGE))


# ---- responses ------------------------------------------------------------------------------------


class OrganisationSchema(Localised):
    """Public fields; the staff fields appear only for staff tokens. Contact details are never public."""

    id = plain.Integer(required=True)
    name = plain.String(required=True)
    country = plain.String(required=True)
    region = plain.String()
    city = plain.String()
    website = plain.String()
    legal_form = plain.String()
    size = plain.String()
    languages = plain.List(plain.String())
    description = plain.String()
    description_language = plain.String()
    offers = plain.String()
    seeks = plain.String()
    partnership_types = plain.List(plain.String())
    themes = plain.List(plain.String())
    status = plain.String(metadata={"description": "Staff tokens only."})
    source = plain.String(metadata={"description": "Staff tokens only."})
    source_reference = plain.String(metadata={"description": "Staff tokens only."})
    contact_name = plain.String(metadata={"description": "Staff tokens only."})
    contact_email = plain.String(metadata={"description": "Staff tokens only."})
    created_at = plain.DateTime(metadata={"description": "Staff tokens only."})
    updated_at = plain.DateTime(metadata={"description": "Staff tokens only."})


class OrganisationPageSchema(Localised):
    items = plain.List(plain.Nested(OrganisationSchema), required=True)
    page = plain.Integer(required=True)
    per_page = plain.Integer(required=True)
    pages = plain.Integer(required=True)
    total = plain.Integer(required=True)


class ExplanationSchema(Localised):
    score = plain.Float(required=True, metadata={"description": "Semantic score plus boosts."})
    semantic = plain.Float(required=True)
    boost = plain.Float(required=True)
    parts = plain.Dict(keys=plain.String(), values=plain.Float(), required=True)
    best_part = plain.String(required=True)
    shared_themes = plain.List(plain.String(), required=True)
    shared_languages = plain.List(plain.String(), required=True)
    shared_partnership_types = plain.List(plain.String(), required=True)
    reasons = plain.List(plain.String(), required=True, metadata={"description": "In the language of the request."})


class ResultSchema(Localised):
    rank = plain.Integer(required=True)
    organisation = plain.Nested(OrganisationSchema, required=True)
    explanation = plain.Nested(ExplanationSchema, required=True)


class MatchResponseSchema(Localised):
    results = plain.List(plain.Nested(ResultSchema), required=True)


class FacetValueSchema(Localised):
    code = plain.String(required=True)
    count = plain.Integer(required=True)
    selected = plain.Boolean(required=True)


FacetsSchema = Localised.from_dict(
    {param: plain.List(plain.Nested(FacetValueSchema), required=True) for param, _known in FILTER_PARAMS.values()},
    name="Facets",
)


class SearchResponseSchema(Localised):
    query = plain.String(required=True)
    total = plain.Integer(required=True)
    page = plain.Integer(required=True)
    pages = plain.Integer(required=True)
    per_page = plain.Integer(required=True)
    results = plain.List(plain.Nested(ResultSchema), required=True)
    facets = plain.Nested(FacetsSchema, required=True)


class ReasonSchema(Localised):
    code = plain.String(required=True)
    value = plain.Raw(required=True, metadata={"type": ["string", "number"]})
    text = plain.String(required=True)


class MemberSchema(Localised):
    rank = plain.Integer(required=True)
    organisation = plain.Nested(OrganisationSchema, required=True)
    relevance = plain.Float(required=True)
    reasons = plain.List(plain.Nested(ReasonSchema), required=True)


class ProblemItemSchema(Localised):
    code = plain.String(required=True)
    values = plain.Dict(keys=plain.String(), required=True)
    text = plain.String(required=True)


class ConsortiumResponseSchema(Localised):
    feasible = plain.Boolean(required=True)
    members = plain.List(plain.Nested(MemberSchema), required=True)
    problems = plain.List(plain.Nested(ProblemItemSchema), required=True)


class IntroductionSchema(Localised):
    id = plain.Integer(required=True)
    requester_id = plain.Integer(required=True)
    target_id = plain.Integer(required=True)
    status = plain.String(required=True)
    created_at = plain.DateTime(required=True)


class ProblemSchema(Localised):
    """RFC 9457 problem details."""

    type = plain.String(required=True)
    title = plain.String(required=True)
    status = plain.Integer(required=True)
    detail = plain.String(required=True)
    instance = plain.String(required=True)
    errors = plain.Dict(metadata={"description": "Invalid input: the message of each field."})
