"""Private links: an enterprise comes back to its own profile with a token only it holds.

The token has 256 bits of randomness and only its SHA-256 is stored, so a copy of the database
does not open anyone's profile.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from matcher.extensions import db
from matcher.partners.models import Organisation

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lookup_hash(token: str) -> str | None:
    """The hash to look a token up by; None for a token that cannot be one of ours."""
    return token_hash(token) if token and len(token) <= 2 * TOKEN_BYTES else None


def find_by_token(token: str) -> Organisation | None:
    """The organisation that the private link opens, or None for an unknown or malformed token."""
    hashed = lookup_hash(token)
    if hashed is None:
        return None
    return db.session.scalar(select(Organisation).where(Organisation.access_token_hash == hashed))
