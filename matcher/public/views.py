"""Home page and the cross-lingual search over published partners (facets, pages, passages)."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from matcher import matching
from matcher.extensions import db
from matcher.matching.filter_params import FILTER_PARAMS, as_arguments, as_filters, read_filters
from matcher.matching.passages import passages
from matcher.partners.models import Organisation
from matcher.partners.vocabulary import Status
from matcher.security import keep_private
from matcher.shortlists.views import shortlists_for

bp = Blueprint("public", __name__, template_folder="templates")

MAX_QUERY = 500
# The heading of each facet (a Filters field).
FACET_TITLES = {
    "countries": _l("Countries"),
    "legal_forms": _l("Legal forms"),
    "themes": _l("Themes"),
    "languages": _l("Languages spoken"),
    "description_languages": _l("Language of the description"),
    "partnership_types": _l("Kinds of partnership"),
    "sizes": _l("Size"),
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


@bp.get("/search")
def search_page() -> Response:
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    cleaned = read_filters(request.args)
    filters, arguments = as_filters(cleaned), as_arguments(cleaned)
    if not query:
        return make_response(render_template("public/search.html", query=query, found=None, arguments=arguments))
    found = matching.search_page(query, filters, page=request.args.get("page", 1, type=int))
    page = make_response(
        render_template(
            "public/search.html",
            query=query,
            found=found,
            facet_titles=FACET_TITLES,
            filter_params=FILTER_PARAMS,
            arguments=arguments,
            filtered=bool(arguments),
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
