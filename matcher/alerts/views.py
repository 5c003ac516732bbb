"""Saved searches in the back-office, protected like the staff blueprint; each user sees only their own."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from matcher.alerts.forms import ActionForm, SaveSearchForm
from matcher.alerts.models import MAX_NAME, SavedSearch
from matcher.extensions import db
from matcher.matching.filter_params import FILTER_PARAMS, clean_filters, read_filters
from matcher.security import keep_private, local_path
from matcher.staff.views import require_staff

bp = Blueprint("alerts", __name__, url_prefix="/staff/saved-searches", template_folder="templates")
bp.before_request(require_staff)
bp.after_request(keep_private)


def posted_filters() -> dict[str, list[str]]:
    """The filters of the posted form, from the search page's repeated parameters."""
    return read_filters(request.form)


def _index_page(form: SaveSearchForm, filters: dict[str, list[str]], status: int = 200) -> Any:
    saved = db.session.scalars(
        select(SavedSearch).where(SavedSearch.owner_id == current_user.id).order_by(SavedSearch.name, SavedSearch.id)
    ).all()
    return render_template(
        "alerts/index.html",
        saved_searches=saved,
        form=form,
        filters=filters,
        filter_params=FILTER_PARAMS,
        action_form=ActionForm(),
        next_url=local_path(request.form.get("next")) or "",
    ), status


@bp.get("")
def index() -> Any:
    return _index_page(SaveSearchForm(), clean_filters({}))


@bp.post("")
def save() -> Any:
    """Save the search posted from the search page (q, name, repeated filter parameters)."""
    form = SaveSearchForm()
    filters = posted_filters()
    if not form.validate_on_submit():
        return _index_page(form, filters, 422)
    query = (form.q.data or "").strip()
    name = (form.name.data or "").strip() or query[:MAX_NAME]
    saved = SavedSearch(owner_id=current_user.id, name=name, query=query, filters=filters)
    db.session.add(saved)
    db.session.commit()
    flash(
        _("Search “%(name)s” saved: new organisations that match it will be sent to you by email.", name=name),
        "success",
    )
    return redirect(local_path(request.form.get("next")) or url_for(".index"))


@bp.post("/<int:saved_search_id>/delete")
def delete(saved_search_id: int) -> Any:
    saved = db.session.get(SavedSearch, saved_search_id)
    if saved is None or saved.owner_id != current_user.id:
        abort(404)
    if ActionForm().validate_on_submit():
        name = saved.name
        db.session.delete(saved)
        db.session.commit()
        flash(_("Saved search “%(name)s” deleted: no more alerts for it.", name=name), "success")
    return redirect(url_for(".index"))
