"""Every API blueprint is made here, so that each gets the same guards: token check, per-token
rate limit, body size ceiling, no CSRF (no cookie is ever read), no caching of answers."""

from __future__ import annotations

from flask import Response
from flask_babel import get_locale
from flask_smorest import Blueprint

from matcher.api.auth import check_token, client_key, limit_body_size, rate_limit
from matcher.extensions import csrf, limiter

PREFIX = "/api/v1"
# Documents the optional token of public operations and the required one of staff operations.
ANYONE = [{}, {"bearerAuth": []}]
STAFF = [{"bearerAuth": []}]


def _answer_headers(response: Response) -> Response:
    response.headers["Content-Language"] = str(get_locale() or "fr")
    response.headers["Cache-Control"] = "no-store"
    return response


def api_blueprint(name: str, description: str) -> Blueprint:
    blueprint = Blueprint(name, __name__, url_prefix=PREFIX, description=description)
    blueprint.before_request(limit_body_size)
    blueprint.before_request(check_token)
    blueprint.after_request(_answer_headers)
    csrf.exempt(blueprint)
    limiter.limit(rate_limit, key_func=client_key)(blueprint)
    return blueprint
