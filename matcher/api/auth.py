"""Who is calling the API: anonymous, or a staff token (read or write), and how often they may.

The token is read from `Authorization: Bearer <token>` once per request. Flask-Limiter keys its
counters by token (each token has its own limit) or, for anonymous callers, by address.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_smorest import abort

from matcher.api.tokens import ApiToken, Scope, authenticate

NO_TOKEN = "anonymous"
View = TypeVar("View", bound=Callable[..., Any])


def bearer() -> str:
    scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def current_token() -> ApiToken | None:
    """The caller's active token, or None (anonymous or an unknown token; see check_token)."""
    if "api_token" not in g:
        secret = bearer()
        g.api_token = authenticate(secret) if secret else None
    return g.api_token


def check_token() -> None:
    """A request that names a token must name a valid one: 401 rather than being served as anonymous."""
    if request.headers.get("Authorization") and current_token() is None:
        abort(401)


def require(scope: Scope) -> ApiToken:
    token = current_token()
    if token is None:
        abort(401)
    if not token.allows(scope):
        abort(403)
    return token


def needs(scope: Scope) -> Callable[[View], View]:
    """Refuse callers without a token of this scope before their input is even read."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            require(scope)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def rate_limit() -> str:
    token = current_token()
    return token.rate_limit if token is not None else current_app.config["MATCHER_API_LIMIT"]


def client_key() -> str:
    token = current_token()
    return f"token:{token.id}" if token is not None else f"{NO_TOKEN}:{get_remote_address()}"


def limit_body_size() -> None:
    """API bodies are small JSON documents: a much lower ceiling than staff file uploads."""
    request.max_content_length = current_app.config["MATCHER_API_MAX_BYTES"]
