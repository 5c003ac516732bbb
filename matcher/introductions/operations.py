"""Recording introduction requests: the only way one enterprise reaches another through the service."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from matcher.extensions import db
from matcher.introductions.models import IntroductionRequest, IntroductionStatus
from matcher.partners.models import Organisation
from matcher.partners.vocabulary import Status

MAX_MESSAGE = 1000


class IntroductionRefused(ValueError):
    """Raised with a localised message when a request cannot be recorded."""


def request_introduction(requester: Organisation, target: Organisation, message: str) -> IntroductionRequest:
    """Record that the requester wants to be introduced to a published partner in another country."""
    message = message.strip()
    if len(message) > MAX_MESSAGE:
        raise IntroductionRefused(
            _("At most %(limit)d characters (now %(count)d).", limit=MAX_MESSAGE, count=len(message))
        )
    if target.status != Status.PUBLISHED or target.country == requester.country:
        raise IntroductionRefused(_("This organisation cannot be proposed to you."))
    already = db.session.scalar(
        select(IntroductionRequest).where(
            IntroductionRequest.requester_id == requester.id,
            IntroductionRequest.target_id == target.id,
            IntroductionRequest.status.in_((IntroductionStatus.NEW, IntroductionStatus.FORWARDED)),
        )
    )
    if already is not None:
        raise IntroductionRefused(_("You have already asked for an introduction to this organisation."))
    request = IntroductionRequest(requester=requester, target=target, message=message)
    db.session.add(request)
    db.session.commit()
    return request


def requests_of(requester: Organisation) -> list[IntroductionRequest]:
    return list(
        db.session.scalars(
            select(IntroductionRequest)
            .where(IntroductionRequest.requester_id == requester.id)
            .order_by(IntroductionRequest.created_at)
        )
    )
