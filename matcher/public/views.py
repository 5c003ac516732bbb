"""Home page and a cross-lingual search over published partners."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.matching import Filters, search
from matcher.partners.models import Organisation
from matcher.partners.vocabulary import Status

bp = Blueprint("public", __name__, template_folder="templates")

MAX_QUERY = 500


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
def search_page() -> str:
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    country = request.args.get("country", "")
    results = search(query, k=20, filters=Filters(countries=(country,) if country else ())) if query else []
    return render_template("public/search.html", query=query, results=results)


@bp.get("/privacy")
def privacy() -> str:
    return render_template("public/privacy.html")


@bp.get("/healthz")
def health() -> dict[str, str]:
    db.session.execute(select(1))
    return {"status": "ok"}
