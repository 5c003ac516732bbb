"""Staff API tokens: created and revoked in the back-office, stored hashed, scoped read or write.

A token is shown once when created; only its SHA-256 is kept (as for private links), with a short
prefix so that staff can tell their tokens apart. Each token carries its own rate limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.extensions import db
from matcher.partners import access
from matcher.partners.models import utcnow
from matcher.staff.models import StaffUser

# Tokens start with this, so that a leaked one is easy to recognise (and to search for in code).
TOKEN_PREFIX = "essm_"
SHOWN_PREFIX = 12
MAX_NAME = 100
MAX_SECRET = 100
# The last use is written at most this often: not one database write per request.
USE_RECORDED_EVERY = timedelta(minutes=1)


class Scope(StrEnum):
    READ = "read"  # every organisation, contacts included
    WRITE = "write"  # read, plus create, update, publish and archive


class TokenRefused(ValueError):
    """Raised with a localised message."""


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    scope: Mapped[str] = mapped_column(String(8), default=Scope.READ)
    rate_limit: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    owner: Mapped[StaffUser] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.owner.active

    def allows(self, scope: Scope) -> bool:
        return self.scope == Scope.WRITE or scope == Scope.READ


def create_token(owner: StaffUser, name: str, scope: str, rate_limit: str) -> tuple[ApiToken, str]:
    """A new token for the staff member; returns it and its secret (shown once, stored hashed)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise TokenRefused(_("Give the token a name of at most %(limit)d characters.", limit=MAX_NAME))
    if scope not in set(Scope):
        raise TokenRefused(_("Unknown value: %(value)s.", value=scope))
    secret = TOKEN_PREFIX + access.new_token()
    token = ApiToken(
        name=name,
        prefix=secret[:SHOWN_PREFIX],
        token_hash=access.token_hash(secret),
        scope=scope,
        rate_limit=rate_limit,
        owner=owner,
    )
    db.session.add(token)
    db.session.commit()
    return token, secret


def revoke(token: ApiToken) -> None:
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()


def tokens_of(owner: StaffUser | None = None) -> list[ApiToken]:
    """The tokens of one staff member, or everyone's (for administrators), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if owner is not None:
        query = query.where(ApiToken.owner_id == owner.id)
    return list(db.session.scalars(query))


def authenticate(secret: str) -> ApiToken | None:
    """The active token with this secret, its use recorded; None for any other string."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_SECRET:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == access.token_hash(secret)))
    if token is None or not token.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > USE_RECORDED_EVERY:
        token.last_used_at = now
        db.session.commit()
    return token
