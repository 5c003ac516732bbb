"""The JSON API (/api/v1): the same operations as the web pages, described by an OpenAPI 3.1
document generated from the code by flask-smorest (served at /api/v1/openapi.json)."""

from __future__ import annotations

import http

from flask import Flask
from flask_smorest import Api
from flask_smorest.spec import prepare_response

from matcher.api.problems import PROBLEM_TYPE
from matcher.api.schemas import ProblemSchema

DESCRIPTION = """Cross-lingual partner matching for social and solidarity economy organisations in the EU.

Public operations need no token; staff operations need a staff API token (created in the back-office)
sent as `Authorization: Bearer <token>`. Errors are `application/problem+json` (RFC 9457), worded in the
language asked for with `Accept-Language`. Contact details and unpublished organisations are never
returned without a staff token."""


class ProblemApi(Api):
    """flask-smorest whose errors are problem details and are produced by the application's own
    error handler (which keeps the HTML error pages of the rest of the site)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """The application's handler (matcher.errors) answers API errors; see matcher.api.problems."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            if status >= 400:
                response = {"description": status.phrase, "schema": self.ERROR_SCHEMA}
                prepare_response(response, self.spec, PROBLEM_TYPE)
                self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="ESS Partner Matcher",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": DESCRIPTION},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = ProblemApi(app)
    from matcher.api import docs, introductions, matching, organisations, token_pages

    for blueprint in (matching.bp, organisations.bp, introductions.bp):
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    app.register_blueprint(token_pages.bp)


def spec_of(app: Flask) -> dict:
    """The OpenAPI document of the app's API, as a dict."""
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
