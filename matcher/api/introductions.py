"""Asking for an introduction to a suggested partner: the requester proves who it is with its
private link's token (or staff name it with a write token); staff then handle the request as usual."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_smorest import abort

from matcher.api.auth import require
from matcher.api.blueprints import ANYONE, api_blueprint
from matcher.api.presenting import in_utc
from matcher.api.schemas import IntroductionInputSchema, IntroductionSchema
from matcher.api.tokens import Scope
from matcher.extensions import db
from matcher.introductions.operations import IntroductionRefused, request_introduction
from matcher.partners.access import find_by_token
from matcher.partners.models import Organisation


def _requester(body: dict[str, Any]) -> Organisation:
    if "requester_token" in body:
        return find_by_token(body["requester_token"]) or abort(
            422, errors={"requester_token": [_("This private link is not valid.")]}
        )
    if "requester_id" in body:
        require(Scope.WRITE)
        return db.session.get(Organisation, body["requester_id"]) or abort(
            422, errors={"requester_id": [_("There is no organisation with this number.")]}
        )
    return abort(422, errors={"requester_token": [_("This field is required.")]})


bp = api_blueprint("api_introductions", "Introduction requests, passed on by staff with the partner's consent.")


@bp.post("/introduction-requests")
@bp.arguments(IntroductionInputSchema)
@bp.response(201, IntroductionSchema)
@bp.doc(security=ANYONE)
def create(body: dict[str, Any]) -> Any:
    """Ask staff to introduce the requester to a published partner in another member state."""
    requester = _requester(body)
    target = db.session.get(Organisation, body["target_id"])
    if target is None:
        abort(422, errors={"target_id": [_("This organisation cannot be proposed to you.")]})
    try:
        request = request_introduction(requester, target, body["message"])
    except IntroductionRefused as refusal:
        abort(422, errors={"target_id": [str(refusal)]})
    return {
        "id": request.id,
        "requester_id": request.requester_id,
        "target_id": request.target_id,
        "status": request.status,
        "created_at": in_utc(request.created_at),
    }
