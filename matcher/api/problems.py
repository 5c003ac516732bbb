"""Errors of the API as `application/problem+json` (RFC 9457), worded in the caller's language.

Every error of an /api/ address goes through here (the application's one HTTP error handler
calls `problem_response`), so a client always receives the same shape: a type, a localised
title and detail, the status, and for invalid input the message of each field.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE = "application/problem+json"
API_PREFIX = "/api/"

# status -> (anchor of the problem type on the docs page, localised title)
PROBLEMS: dict[int, tuple[str, Any]] = {
    400: ("bad-request", _l("The request could not be understood.")),
    401: ("unauthorised", _l("An API token is needed.")),
    403: ("forbidden", _l("This token may not do this.")),
    404: ("not-found", _l("Not found.")),
    405: ("method-not-allowed", _l("This address does not accept this method.")),
    409: ("conflict", _l("Not possible in the current state.")),
    413: ("too-large", _l("The request is too large.")),
    415: ("unsupported-media-type", _l("Send the request body as application/json.")),
    422: ("invalid", _l("Some values are not valid.")),
    429: ("rate-limited", _l("Too many requests.")),
    500: ("server-error", _l("Something went wrong on our side.")),
    503: ("unavailable", _l("The service is briefly unavailable.")),
}
DETAILS: dict[int, Any] = {
    400: _l("The body is not valid JSON, or a value cannot be read."),
    401: _l("Send a staff API token in the Authorization header: Bearer <token>."),
    404: _l("There is no such address, or no published organisation with this number."),
    413: _l("The body of a request may hold at most %(limit)d bytes."),
    415: _l("Send the request body as JSON with the header Content-Type: application/json."),
    422: _l("See the message given for each field in errors."),
    429: _l("Wait a little before the next request; the limit is %(limit)s."),
    500: _l("Please try again in a moment; the error has been logged."),
}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def _detail(error: HTTPException, code: int) -> str:
    data = getattr(error, "data", None) or {}
    if data.get("message"):
        return str(data["message"])
    if code == 413:
        return str(DETAILS[413]) % {"limit": request.max_content_length or 0}
    if code == 429:
        return str(DETAILS[429]) % {"limit": getattr(error, "description", "")}
    return str(DETAILS.get(code, PROBLEMS.get(code, PROBLEMS[500])[1]))


def _plain(messages: Any) -> Any:
    """Messages as lists of plain text (marshmallow keeps a lazy translation as it is, not in a list)."""
    if isinstance(messages, dict):
        return {str(key): _plain(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [str(value) for value in messages]
    return [str(messages)]


def _field_errors(error: HTTPException) -> dict[str, Any] | None:
    """Per-field messages: ours ("errors"), or webargs' ("messages", keyed by where the value was)."""
    data = getattr(error, "data", None) or {}
    if "errors" in data:
        return _plain(data["errors"])
    messages = data.get("messages")
    if not messages:
        return None
    merged: dict[str, Any] = {}
    for location, fields in messages.items():
        merged.update(fields if isinstance(fields, dict) else {location: fields})
    return _plain(merged)


def problem_response(error: HTTPException) -> Response:
    code = error.code or 500
    if code not in PROBLEMS:
        code = 400 if code < 500 else 500
    anchor, title = PROBLEMS[code]
    body: dict[str, Any] = {
        "type": url_for("api_docs.docs", _external=True) + f"#problem-{anchor}",
        "title": str(title),
        "status": code,
        "detail": _detail(error, code),
        "instance": request.path,
    }
    if code == 422 and (errors := _field_errors(error)) is not None:
        body["errors"] = errors
    response = current_app.response_class(current_app.json.dumps(body), status=code, mimetype=PROBLEM_TYPE)
    response.headers["Content-Language"] = str(get_locale() or "fr")
    data = getattr(error, "data", None) or {}
    response.headers.extend(data.get("headers") or {})
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if error.code == 405 and (allowed := error.get_headers()):
        response.headers.extend(h for h in allowed if h[0] == "Allow")
    return response
