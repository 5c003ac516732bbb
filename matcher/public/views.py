"""Home page and the cross-lingual search over published partners (facets, pages, passages)."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from matcher import matching
from matcher.engine.language import EU_LANGUAGES
from matcher.extensions import db
from matcher.matching import Filters
from matcher.matching.passages import passages
from matcher.partners.models import Organisation
from matcher.partners.vocabulary import EU_COUNTRIES, LEGAL_FORMS, PARTNERSHIP_TYPES, SIZES, THEMES, Status
from matcher.security import keep_private
from matcher.shortlists.views import shortlists_for

bp = Blueprint("public", __name__, template_folder="templates")

MAX_QUERY = 500
# Facet (a Filters field) -> its URL parameter, heading and known codes.
FACETS = {
    "countries": ("country", _l("Countries"), EU_COUNTRIES),
    "legal_forms": ("legal_form", _l("Legal forms"), tuple(LEGAL_FORMS)),
    "themes": ("theme", _l("Themes"), tuple(THEMES)),
    "languages": ("language", _l("Languages spoken"), EU_LANGUAGES),
    "partnership_types": ("partnership_type", _l("Kinds of partnership"), tuple(PARTNERSHIP_TYPES)),
    "sizes": ("size", _l("Size"), tuple(SIZES)),
}


@bp.get("/")
def home() -> str:
    per_country = db.session.execute(
        select(Organisation.country, func.count())
        .where(Organisation.status == Status.PUBLISHED)
        .group_by(Organisation.country)
        .order_by(func.count().desc(), Organisation.country)
    ).all()
    return render_template("public/home.html", per_country=per_country, total=sum(n for _, n in per_country))


def _filters() -> Filters:
    """The filters of the query string; unknown codes are dropped."""
    return Filters(
        **{
            facet: tuple(code for code in request.args.getlist(param) if code in known)
            for facet, (param, _title, known) in FACETS.items()
        }
    )


@bp.get("/search")
def search_page() -> Response:
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    filters = _filters()
    arguments = {param: list(getattr(filters, facet)) for facet, (param, *_rest) in FACETS.items()}
    if not query:
        return make_response(render_template("public/search.html", query=query, found=None, arguments=arguments))
    found = matching.search_page(query, filters, page=request.args.get("page", 1, type=int))
    page = make_response(
        render_template(
            "public/search.html",
            query=query,
            found=found,
            facets=FACETS,
            arguments=arguments,
            filtered=any(arguments.values()),
            passages=passages(query, [r.organisation for r in found.results]),
            staff_view=current_user.is_authenticated,
            shortlists=shortlists_for(current_user) if current_user.is_authenticated else [],
        )
    )
    # Signed-in staff see their shortlists on the page: it must not be cached.
    return keep_private(page) if current_user.is_authenticated else page


@bp.get("/privacy")
def privacy() -> str:
    return render_template("public/privacy.html")


@bp.get("/healthz")
def health() -> dict[str, str]:
    db.session.execute(select(1))
    return {"status": "ok"}
