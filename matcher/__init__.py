"""ESS Partner Matcher: cross-lingual partner suggestions for social-economy organisations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from matcher.config import DEFAULT_SECRET_KEY, load_config
from matcher.extensions import babel, csrf, db, limiter, login_manager


def select_locale() -> str | None:
    """The language chosen with the switcher, else the browser's preference, else French."""
    if not has_request_context():
        return None
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in languages:
        session["lang"] = chosen
        return chosen
    return request.accept_languages.best_match(languages)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: config, extensions, blueprints, CLI."""
    app = Flask(__name__, instance_path=os.environ.get("MATCHER_INSTANCE_PATH") or None)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)
    if os.environ.get("MATCHER_ENV") == "production" and app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise RuntimeError("Set MATCHER_SECRET_KEY: the default secret key must not be used in production.")

    if hops := app.config["MATCHER_PROXY_HOPS"]:
        # The client's address (rate limits) and the public scheme and host (links in mails) come from the proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from matcher import sqlite, storable_text  # noqa: F401 - SQLite in WAL mode; no NUL reaches PostgreSQL

    db.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    from matcher.staff.uploads import allow_staff_uploads

    app.before_request(allow_staff_uploads)  # before CSRF protection reads the body
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.login_view = "staff.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = "strong"

    from matcher.api import tokens  # noqa: F401
    from matcher.introductions import models as introduction_models  # noqa: F401 - registers its table
    from matcher.partners import audit, duplicates, indexing, models, vector_cache  # noqa: F401 - models register their tables
    from matcher.staff import import_jobs  # noqa: F401 - register their tables
    from matcher.staff import models as staff_models  # noqa: F401

    indexing.init_app(app)

    from matcher import cli, security, templating

    security.init_app(app)
    templating.init_app(app)
    cli.register(app)

    from matcher import api

    api.init_app(app)
    from matcher.alerts.views import bp as alerts_bp
    from matcher.consortia.views import bp as consortia_bp
    from matcher.errors.views import bp as errors_bp
    from matcher.introductions.views import bp as introductions_bp
    from matcher.profiles.views import bp as profiles_bp
    from matcher.public.views import bp as public_bp
    from matcher.shortlists.views import bp as shortlists_bp
    from matcher.staff.views import bp as staff_bp

    for blueprint in (
        public_bp,
        profiles_bp,
        introductions_bp,
        staff_bp,
        shortlists_bp,
        alerts_bp,
        consortia_bp,
        errors_bp,
    ):
        app.register_blueprint(blueprint)
    return app
