"""Creating staff accounts and checking passwords, with a lock after repeated failures."""

from __future__ import annotations

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from matcher.extensions import db
from matcher.partners.models import utcnow
from matcher.staff.models import StaffUser

MIN_PASSWORD = 12
MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
# Checked when the address is unknown, so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password of anyone")


class AccountError(ValueError):
    """Raised with a localised message."""


def _email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise AccountError(_("Give a valid email address.")) from error


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(_("The password needs at least %(minimum)d characters.", minimum=MIN_PASSWORD))


def create_staff(email: str, password: str, is_admin: bool = False) -> StaffUser:
    address = _email(email)
    _check_password(password)
    if db.session.scalar(select(StaffUser).where(StaffUser.email == address)) is not None:
        raise AccountError(_("An account with this address exists already."))
    user = StaffUser(email=address, password_hash=generate_password_hash(password), is_admin=is_admin)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(user: StaffUser, password: str) -> None:
    _check_password(password)
    user.password_hash = generate_password_hash(password)
    db.session.commit()


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active account with this address and password; None otherwise (locked accounts included)."""
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        return None
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCK_TIME, 0
        db.session.commit()
        return None
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    db.session.commit()
    return user if user.active else None


def set_role(user: StaffUser, is_admin: bool, active: bool) -> None:
    user.is_admin, user.active = is_admin, active
    db.session.commit()
