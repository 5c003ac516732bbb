"""Organisations: list and read the published ones (everyone); create, update, publish and archive
(staff write tokens), through the same operations and validator as the back-office."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import url_for
from flask_smorest import abort

from matcher.api.auth import current_token, needs, require
from matcher.api.blueprints import ANYONE, STAFF, api_blueprint
from matcher.api.presenting import organisation_view
from matcher.api.schemas import (
    NoteSchema,
    OrganisationChangesSchema,
    OrganisationInputSchema,
    OrganisationListArgsSchema,
    OrganisationPageSchema,
    OrganisationSchema,
)
from matcher.api.tokens import Scope
from matcher.extensions import db
from matcher.matching.filter_params import filters_from_params
from matcher.matching.ranking import allowed_ids, organisations_by_id
from matcher.partners.models import Organisation
from matcher.partners.operations import InvalidOrganisation, create_organisation, update_organisation
from matcher.partners.vocabulary import Source, Status
from matcher.staff.moderation import ModerationRefused, moderate

bp = api_blueprint("api_organisations", "The partner database.")
# The address of one organisation (ids beyond a 32-bit integer are no address at all: 404).
ONE = "/organisations/<int(min=1, max=2147483647):organisation_id>"


def _naive_utc(moment: datetime | None) -> datetime | None:
    """Stored times are naive UTC; a time given with its offset is converted."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _visible(organisation_id: int) -> Organisation:
    """The organisation if the caller may see it: published ones for everyone, all of them for staff."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or (current_token() is None and organisation.status != Status.PUBLISHED):
        abort(404)
    return organisation


def _actor() -> str:
    """Who the audit trail names: the staff member who owns the token."""
    token = current_token()
    return token.owner.email if token is not None else ""


def _invalid(error: InvalidOrganisation) -> None:
    abort(422, errors=error.errors)


@bp.get("/organisations")
@bp.arguments(OrganisationListArgsSchema, location="query")
@bp.response(200, OrganisationPageSchema)
@bp.doc(security=ANYONE)
def list_organisations(args: dict[str, Any]) -> dict[str, Any]:
    """Organisations in the order they were added, a page at a time (published ones unless a staff
    token asks for other statuses)."""
    statuses = args["status"] or [Status.PUBLISHED]
    if statuses != [Status.PUBLISHED]:
        require(Scope.READ)
    ids = sorted(
        allowed_ids(filters_from_params(args), statuses=statuses, changed_since=_naive_utc(args["updated_since"]))
    )
    per_page = args["per_page"]
    pages = max(1, -(-len(ids) // per_page))
    chosen = ids[(args["page"] - 1) * per_page : args["page"] * per_page]
    by_id = organisations_by_id(chosen)
    return {
        "items": [organisation_view(by_id[i]) for i in chosen],
        "page": args["page"],
        "per_page": per_page,
        "pages": pages,
        "total": len(ids),
    }


@bp.get(ONE)
@bp.response(200, OrganisationSchema)
@bp.doc(security=ANYONE)
def read_organisation(organisation_id: int) -> dict[str, Any]:
    """One organisation (a published one, unless the caller has a staff token)."""
    return organisation_view(_visible(organisation_id))


@bp.post("/organisations")
@needs(Scope.WRITE)
@bp.arguments(OrganisationInputSchema)
@bp.response(201, OrganisationSchema)
@bp.doc(security=STAFF)
def create(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Add an organisation (write tokens). It starts pending: publish it to make it findable."""
    try:
        organisation = create_organisation(body, source=Source.STAFF, actor=_actor())
    except InvalidOrganisation as error:
        _invalid(error)
    location = url_for(".read_organisation", organisation_id=organisation.id)
    return organisation_view(organisation), 201, {"Location": location}


@bp.patch(ONE)
@needs(Scope.WRITE)
@bp.arguments(OrganisationChangesSchema(partial=True))
@bp.response(200, OrganisationSchema)
@bp.doc(security=STAFF)
def update(body: dict[str, Any], organisation_id: int) -> dict[str, Any]:
    """Change some fields (write tokens); the indexes follow at once."""
    organisation = _visible(organisation_id)
    try:
        update_organisation(organisation, body, actor=_actor())
    except InvalidOrganisation as error:
        db.session.rollback()
        _invalid(error)
    return organisation_view(organisation)


# The moderation actions the API offers: action -> what the operation does (its summary in the document).
MODERATION = {
    "publish": "Publish (write tokens): the organisation becomes findable at once.",
    "archive": "Archive (write tokens): the organisation leaves the results at once and stays in the database.",
}


def _moderation_operation(action: str, summary: str) -> None:
    """One operation per action, each documented on its own."""

    def moderated(body: dict[str, Any], organisation_id: int) -> dict[str, Any]:
        organisation = _visible(organisation_id)
        try:
            moderate(organisation, action, _actor(), body.get("note", ""))
        except ModerationRefused as refusal:
            abort(409, message=str(refusal))
        return organisation_view(organisation)

    moderated.__name__ = action
    view = bp.doc(security=STAFF, summary=summary)(bp.response(200, OrganisationSchema)(moderated))
    view = needs(Scope.WRITE)(bp.arguments(NoteSchema, required=False)(view))
    bp.post(f"{ONE}/{action}")(view)


for _action, _summary in MODERATION.items():
    _moderation_operation(_action, _summary)
