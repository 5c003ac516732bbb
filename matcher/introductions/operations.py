"""Introduction requests, from the enterprise's request through staff to the target's own consent.

This is the only way one enterprise reaches another through the service: contact details travel
only after the target has accepted through the link it received.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy import select

from matcher.extensions import db
from matcher.introductions import mails
from matcher.introductions.models import OPEN_STATUSES, IntroductionRequest, IntroductionStatus
from matcher.partners import access
from matcher.partners.models import Organisation, utcnow
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
            IntroductionRequest.status.in_(OPEN_STATUSES),
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


def _handled(request: IntroductionRequest, status: IntroductionStatus, actor: str, note: str = "") -> None:
    request.status, request.handled_by, request.decided_at = status, actor, utcnow()
    if note:
        request.staff_note = note


def forward(request: IntroductionRequest, actor: str, consent_link: Callable[[str], str]) -> None:
    """Staff pass the request on: the target receives an email with a link to accept or refuse."""
    if request.status != IntroductionStatus.NEW:
        raise IntroductionRefused(_("This request has been handled already."))
    if not request.target.contact_email:
        raise IntroductionRefused(_("This organisation has no contact email: add one before forwarding."))
    token = access.new_token()
    request.consent_token_hash = access.token_hash(token)
    _handled(request, IntroductionStatus.FORWARDED, actor)
    mails.ask_consent(request, consent_link(token))
    db.session.commit()


def decline(request: IntroductionRequest, actor: str, note: str) -> None:
    if request.status not in OPEN_STATUSES:
        raise IntroductionRefused(_("This request has been handled already."))
    _handled(request, IntroductionStatus.DECLINED, actor, note)
    db.session.commit()


def close(request: IntroductionRequest, actor: str, note: str = "") -> None:
    _handled(request, IntroductionStatus.DONE, actor, note)
    db.session.commit()


def by_consent_token(token: str) -> IntroductionRequest | None:
    hashed = access.lookup_hash(token)
    if hashed is None:
        return None
    return db.session.scalar(select(IntroductionRequest).where(IntroductionRequest.consent_token_hash == hashed))


def answer(request: IntroductionRequest, accept: bool) -> None:
    """The target's own decision: only then does the requester's contact reach it, and its contact the requester."""
    if request.status != IntroductionStatus.FORWARDED:
        raise IntroductionRefused(_("This request has been answered already."))
    request.status = IntroductionStatus.ACCEPTED if accept else IntroductionStatus.REFUSED
    request.decided_at = utcnow()
    if accept:
        mails.share_contacts(request)
    else:
        mails.tell_refused(request)
    db.session.commit()
