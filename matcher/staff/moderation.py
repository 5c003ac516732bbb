"""Moderation: which status changes staff may make, and the conditions each one needs."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matcher.partners.models import Organisation
from matcher.partners.operations import set_status
from matcher.partners.vocabulary import Source, Status

# action -> (new status, statuses it may start from)
ACTIONS: dict[str, tuple[Status, frozenset[str]]] = {
    "publish": (Status.PUBLISHED, frozenset({Status.PENDING, Status.REJECTED, Status.ARCHIVED})),
    "reject": (Status.REJECTED, frozenset({Status.PENDING})),
    "archive": (Status.ARCHIVED, frozenset({Status.PUBLISHED, Status.PENDING, Status.REJECTED})),
    "restore": (Status.PENDING, frozenset({Status.ARCHIVED, Status.REJECTED})),
}
ACTION_LABELS = {
    "publish": _l("Publish"),
    "reject": _l("Reject"),
    "archive": _l("Archive"),
    "restore": _l("Restore (back to pending)"),
}
STATUS_LABELS = {
    Status.PENDING: _l("pending"),
    Status.PUBLISHED: _l("published"),
    Status.REJECTED: _l("rejected"),
    Status.ARCHIVED: _l("archived"),
}

SOURCE_LABELS = {
    Source.SELF: _l("self-submitted"),
    Source.STAFF: _l("entered by staff"),
    Source.IMPORT: _l("imported"),
}

DUPLICATE_REASONS = {
    "name": _l("same name"),
    "website": _l("same website"),
    "description": _l("nearly the same description in the same country"),
}

IMPORT_STATUSES = {
    "uploaded": _l("uploaded, not imported yet"),
    "running": _l("importing"),
    "done": _l("finished"),
    "failed": _l("failed"),
    "interrupted": _l("interrupted (start it again to resume)"),
}


class ModerationRefused(ValueError):
    """Raised with a localised message."""


def allowed_actions(organisation: Organisation) -> list[str]:
    return [action for action, (_status, sources) in ACTIONS.items() if organisation.status in sources]


def moderate(organisation: Organisation, action: str, actor: str, note: str = "") -> None:
    if action not in allowed_actions(organisation):
        raise ModerationRefused(_("This action is not possible for an organisation in this state."))
    if action == "reject" and not note.strip():
        raise ModerationRefused(_("Give the reason for the rejection."))
    if action == "publish" and organisation.source == Source.SELF and organisation.consent_publication_at is None:
        raise ModerationRefused(_("This enterprise did not agree to publication: it can only receive suggestions."))
    set_status(organisation, ACTIONS[action][0], actor=actor, note=note.strip())
