"""One localised page for every HTTP error, so that no visitor meets a bare server message."""

from __future__ import annotations

import contextlib
import logging

from flask import Blueprint, Response, make_response, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from matcher.api.problems import is_api_request, problem_response
from matcher.extensions import db

bp = Blueprint("errors", __name__, template_folder="templates")
log = logging.getLogger(__name__)
# Seconds a client is asked to wait when the database cannot be reached.
RETRY_AFTER = 30

EXPLANATIONS = {
    400: _l("The request could not be understood. If you were sending a form, go back and send it again."),
    403: _l("You are not allowed to see this page."),
    404: _l("This page does not exist, or the private link is not valid any more."),
    405: _l("This page cannot be used that way."),
    413: _l("What you sent is too large."),
    429: _l("Too many requests from your connection. Please try again in a while."),
    500: _l("Something went wrong on our side. Please go back and try again in a moment."),
    503: _l("The service is briefly unavailable. Please try again in a minute."),
}


def render_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    explanation = EXPLANATIONS.get(code, EXPLANATIONS[400] if code < 500 else EXPLANATIONS[500])
    return render_template("errors/error.html", code=code, explanation=explanation), code


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[str, int] | Response:
    """A page for people; a problem document (RFC 9457) for the API."""
    if is_api_request():
        return problem_response(error)
    return render_error(error)


@bp.app_errorhandler(OperationalError)
@bp.app_errorhandler(InterfaceError)
def database_unavailable(error: DBAPIError) -> Response:
    """The database cannot be reached: a clear 503 rather than a server error. The connection pool
    tests its connections before use (pool_pre_ping), so the next request after it is back succeeds."""
    log.error("database unavailable: %s", error)
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()
    response = make_response(http_error(ServiceUnavailable()))
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response
