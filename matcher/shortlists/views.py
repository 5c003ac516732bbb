"""Shortlist pages of the back-office, protected like the staff blueprint (signed-in staff only).

Who may do what: a private list exists only for its owner (anyone else gets 404); a shared list
is seen and edited (entries, notes, name) by every staff user. Sharing and deleting a list are
its owner's decisions.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from werkzeug.utils import secure_filename

from matcher.extensions import db
from matcher.partners.exporting import cell, export_columns, table_bytes
from matcher.partners.models import Organisation
from matcher.partners.vocabulary import Status
from matcher.security import keep_private, local_path
from matcher.shortlists.forms import ActionForm, AddForm, EntryNoteForm, RenameForm, ShortlistForm
from matcher.shortlists.models import Shortlist, ShortlistEntry
from matcher.staff.models import StaffUser
from matcher.staff.views import require_staff

bp = Blueprint("shortlists", __name__, url_prefix="/staff/shortlists", template_folder="templates")
bp.before_request(require_staff)
bp.after_request(keep_private)

EXPORT_NOTE_COLUMNS = ("note", "added_by", "added_at")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def shortlists_for(user: StaffUser) -> list[Shortlist]:
    """The lists the user may see and add to: their own and the shared ones, the newest first (the
    list one is filling is the default choice)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            select(Shortlist)
            .where(or_(Shortlist.owner_id == user.id, Shortlist.shared.is_(True)))
            .order_by(Shortlist.id.desc())
        )
    )


def _shortlist(shortlist_id: int) -> Shortlist:
    shortlist = db.session.get(Shortlist, shortlist_id)
    if shortlist is None or not shortlist.visible_to(current_user):
        abort(404)
    return shortlist


def _owned(shortlist_id: int) -> Shortlist:
    shortlist = _shortlist(shortlist_id)
    if shortlist.owner_id != current_user.id:
        abort(403)
    return shortlist


def _entry(shortlist: Shortlist, organisation_id: int) -> ShortlistEntry:
    return shortlist.entry(organisation_id) or abort(404)


def _index_page(form: ShortlistForm, status: int = 200) -> Any:
    return render_template(
        "shortlists/index.html", form=form, shortlists=shortlists_for(current_user), action_form=ActionForm()
    ), status


@bp.get("")
def index() -> Any:
    return _index_page(ShortlistForm())


@bp.post("")
def create() -> Any:
    form = ShortlistForm()
    if not form.validate_on_submit():
        return _index_page(form, 422)
    shortlist = Shortlist(name=(form.name.data or "").strip(), owner_id=current_user.id, shared=form.shared.data)
    db.session.add(shortlist)
    db.session.commit()
    flash(_("Shortlist “%(name)s” created.", name=shortlist.name), "success")
    return redirect(url_for(".show", shortlist_id=shortlist.id))


def _show_page(
    shortlist: Shortlist,
    rename_form: RenameForm | None = None,
    failed_note: tuple[int, EntryNoteForm] | None = None,
    status: int = 200,
) -> Any:
    return render_template(
        "shortlists/show.html",
        shortlist=shortlist,
        rename_form=rename_form or RenameForm(formdata=None, name=shortlist.name),
        failed_note=failed_note,
        action_form=ActionForm(),
        is_owner=shortlist.owner_id == current_user.id,
        published=Status.PUBLISHED,
    ), status


@bp.get("/<int:shortlist_id>")
def show(shortlist_id: int) -> Any:
    return _show_page(_shortlist(shortlist_id))


@bp.post("/<int:shortlist_id>/rename")
def rename(shortlist_id: int) -> Any:
    shortlist = _shortlist(shortlist_id)
    form = RenameForm()
    if not form.validate_on_submit():
        return _show_page(shortlist, rename_form=form, status=422)
    shortlist.name = (form.name.data or "").strip()
    db.session.commit()
    flash(_("Shortlist renamed to “%(name)s”.", name=shortlist.name), "success")
    return redirect(url_for(".show", shortlist_id=shortlist.id))


@bp.post("/<int:shortlist_id>/sharing")
def toggle_sharing(shortlist_id: int) -> Any:
    shortlist = _owned(shortlist_id)
    if ActionForm().validate_on_submit():
        shortlist.shared = not shortlist.shared
        db.session.commit()
        if shortlist.shared:
            flash(_("The shortlist is now shared: every colleague can see and edit it."), "success")
        else:
            flash(_("The shortlist is now private: only you can see it."), "success")
    return redirect(url_for(".show", shortlist_id=shortlist.id))


@bp.post("/<int:shortlist_id>/delete")
def delete(shortlist_id: int) -> Any:
    shortlist = _owned(shortlist_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for(".show", shortlist_id=shortlist.id))
    name = shortlist.name
    db.session.delete(shortlist)
    db.session.commit()
    flash(_("Shortlist “%(name)s” deleted.", name=name), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:shortlist_id>/entries/<int:organisation_id>/note")
def edit_note(shortlist_id: int, organisation_id: int) -> Any:
    shortlist = _shortlist(shortlist_id)
    entry = _entry(shortlist, organisation_id)
    form = EntryNoteForm()
    if not form.validate_on_submit():
        return _show_page(shortlist, failed_note=(organisation_id, form), status=422)
    entry.note = (form.note.data or "").strip()
    db.session.commit()
    flash(_("Note saved for %(name)s.", name=entry.organisation.name), "success")
    return redirect(url_for(".show", shortlist_id=shortlist.id, _anchor=f"entry-{organisation_id}"))


@bp.post("/<int:shortlist_id>/entries/<int:organisation_id>/remove")
def remove(shortlist_id: int, organisation_id: int) -> Any:
    shortlist = _shortlist(shortlist_id)
    entry = _entry(shortlist, organisation_id)
    if ActionForm().validate_on_submit():
        name = entry.organisation.name
        shortlist.entries.remove(entry)
        db.session.commit()
        flash(_("%(name)s removed from the shortlist.", name=name), "success")
    return redirect(url_for(".show", shortlist_id=shortlist.id))


@bp.post("/add")
def add() -> Any:
    """Add an organisation (from the search results) to a list, or to a new list; back to `next`."""
    form = AddForm()
    target = local_path(request.form.get("next")) or url_for(".index")
    if not form.validate_on_submit():
        if form.new_name.errors:
            flash(_("The name of the new list is too long."), "error")
        else:
            flash(_("The organisation could not be added: please try again."), "error")
        return redirect(target)
    organisation = db.session.get(Organisation, form.organisation_id.data)
    if organisation is None or organisation.status != Status.PUBLISHED:
        flash(_("Only published organisations can be added to a shortlist."), "error")
        return redirect(target)
    new_name = (form.new_name.data or "").strip()
    if new_name:
        shortlist = Shortlist(name=new_name, owner_id=current_user.id)
        db.session.add(shortlist)
    elif form.shortlist_id.data:
        shortlist = _shortlist(form.shortlist_id.data)
    else:
        flash(_("Choose a shortlist or type the name of a new one."), "error")
        return redirect(target)
    if shortlist.entry(organisation.id) is not None:
        flash(
            _("%(name)s is already on the shortlist “%(list)s”.", name=organisation.name, list=shortlist.name), "info"
        )
        return redirect(target)
    shortlist.entries.append(ShortlistEntry(organisation=organisation, added_by=current_user.email))
    db.session.commit()
    flash(_("%(name)s added to the shortlist “%(list)s”.", name=organisation.name, list=shortlist.name), "success")
    return redirect(target)


def _cell(value: object) -> object:
    return value.replace(microsecond=0) if isinstance(value, datetime) else cell(value)


def export_table(shortlist: Shortlist) -> tuple[list[str], list[list[object]]]:
    """The columns of the database export (public and administrative fields, no contact) and the note."""
    fields = export_columns(include_contact=False)
    rows = [
        [_cell(getattr(entry.organisation, name)) for name in fields]
        + [_cell(getattr(entry, name)) for name in EXPORT_NOTE_COLUMNS]
        for entry in shortlist.entries
    ]
    return [*fields, *EXPORT_NOTE_COLUMNS], rows


@bp.get("/<int:shortlist_id>/export")
def export(shortlist_id: int) -> Any:
    shortlist = _shortlist(shortlist_id)
    kind = request.args.get("format", "csv")
    if kind not in ("csv", "xlsx"):
        abort(400)
    columns, rows = export_table(shortlist)
    payload = table_bytes(columns, rows, kind)
    filename = f"shortlist-{shortlist.id}-{secure_filename(shortlist.name) or 'list'}.{kind}"
    return send_file(
        io.BytesIO(payload),
        mimetype=XLSX_MIMETYPE if kind == "xlsx" else "text/csv",
        as_attachment=True,
        download_name=filename,
    )
