"""An introduction request, kept until staff handle it; removed with either organisation."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.extensions import db
from matcher.partners.models import Organisation, utcnow


class IntroductionStatus(StrEnum):
    NEW = "new"  # waiting for staff
    FORWARDED = "forwarded"  # staff asked the target for its consent
    ACCEPTED = "accepted"  # the target agreed: both sides received each other's contact
    REFUSED = "refused"  # the target said no
    DECLINED = "declined"  # staff did not pass the request on
    DONE = "done"  # closed by staff


OPEN_STATUSES = (IntroductionStatus.NEW, IntroductionStatus.FORWARDED)

STATUS_LABELS = {
    IntroductionStatus.NEW: _l("waiting for staff"),
    IntroductionStatus.FORWARDED: _l("sent to the organisation"),
    IntroductionStatus.ACCEPTED: _l("accepted: you have been put in touch"),
    IntroductionStatus.REFUSED: _l("not accepted by the organisation"),
    IntroductionStatus.DECLINED: _l("declined"),
    IntroductionStatus.DONE: _l("closed"),
}


class IntroductionRequest(db.Model):
    """The requester asks to be introduced to the target; no contact detail leaves the chamber."""

    __tablename__ = "introduction_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=IntroductionStatus.NEW, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # SHA-256 of the token in the link that lets the target accept or refuse (set when forwarded).
    consent_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    handled_by: Mapped[str] = mapped_column(String(254), default="")
    staff_note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]

    requester: Mapped[Organisation] = relationship(
        foreign_keys=[requester_id], backref=db.backref("introductions_asked", cascade="all, delete-orphan")
    )
    target: Mapped[Organisation] = relationship(
        foreign_keys=[target_id], backref=db.backref("introductions_received", cascade="all, delete-orphan")
    )
