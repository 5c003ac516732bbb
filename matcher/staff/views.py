"""The back-office: sign-in, dashboard, organisations (moderation, editing, history), introductions, accounts.

Every route of this blueprint needs a signed-in staff account; routes marked admin_only need an
administrator. The check runs before every request of the blueprint, so a new route is protected
by default.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import or_, select

from matcher.extensions import db, limiter, login_manager
from matcher.introductions import operations as introductions
from matcher.introductions.models import IntroductionRequest, IntroductionStatus
from matcher.partners.audit import trail
from matcher.partners.duplicates import DuplicateFlag, DuplicateStatus, mark_distinct, open_flags
from matcher.partners.essglobal import write_essglobal
from matcher.partners.exporting import write_export
from matcher.partners.importing import ColumnMapping
from matcher.partners.models import Organisation
from matcher.partners.operations import InvalidOrganisation, update_organisation
from matcher.partners.vocabulary import LEGAL_FORMS, Status
from matcher.security import keep_private
from matcher.staff import accounts
from matcher.staff.dashboard import dashboard as dashboard_figures
from matcher.staff.forms import AccountForm, LoginForm, NoteForm, RoleForm, StaffOrganisationForm, UploadForm
from matcher.staff.import_jobs import SUFFIXES, ImportJob, preview, store_upload
from matcher.staff.import_jobs import start as start_import
from matcher.staff.merging import differing_fields, merge
from matcher.staff.models import StaffUser
from matcher.staff.moderation import STATUS_LABELS, ModerationRefused, allowed_actions, moderate

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates")

OPEN_ENDPOINTS = {"staff.login"}
PAGE_SIZE = 50
# Fields a column of an imported file can feed.
IMPORT_FIELDS = Organisation.EDITABLE_FIELDS
View = TypeVar("View", bound=Callable[..., Any])


def admin_only(view: View) -> View:
    view.admin_only = True  # type: ignore[attr-defined]
    return view


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    user = db.session.get(StaffUser, int(user_id))
    return user if user is not None and user.active else None


@bp.before_request
def require_staff() -> Any:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "admin_only", False) and not current_user.is_admin:
        abort(403)
    return None


bp.after_request(keep_private)


def login_limit() -> str:
    return current_app.config["MATCHER_LOGIN_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            login_user(user)
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/staff/") else url_for(".dashboard"))
        flash(
            _("Unknown address or wrong password, or the account is locked for a while after repeated failures."),
            "error",
        )
    return render_template("staff/login.html", form=form)


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    return redirect(url_for(".login"))


@bp.get("/")
def dashboard() -> str:
    figures = dashboard_figures(current_app.config["MATCHER_REVIEW_MONTHS"])
    return render_template("staff/dashboard.html", figures=figures)


@bp.get("/organisations")
def organisations() -> str:
    status = request.args.get("status", "")
    text = request.args.get("q", "").strip()[:200]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    query = select(Organisation).order_by(Organisation.name, Organisation.id)
    if status in set(Status):
        query = query.where(Organisation.status == status)
    if text:
        pattern = f"%{text}%"
        query = query.where(
            or_(
                Organisation.name.ilike(pattern),
                Organisation.website.ilike(pattern),
                Organisation.contact_email.ilike(pattern),
            )
        )
    listed = db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template("staff/organisations.html", listed=listed, status=status, text=text, statuses=list(Status))


def _organisation(organisation_id: int) -> Organisation:
    return db.session.get(Organisation, organisation_id) or abort(404)


@bp.get("/organisations/<int:organisation_id>")
def organisation(organisation_id: int) -> str:
    record = _organisation(organisation_id)
    return render_template(
        "staff/organisation.html",
        organisation=record,
        actions=allowed_actions(record),
        note_form=NoteForm(),
        history=trail(record.id),
        flags=open_flags(record.id),
    )


@bp.post("/organisations/<int:organisation_id>/status")
def change_status(organisation_id: int) -> Any:
    record = _organisation(organisation_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            moderate(record, form.action.data or "", current_user.email, form.note.data or "")
        except ModerationRefused as refusal:
            flash(str(refusal), "error")
        else:
            flash(
                _("Done: %(name)s is now %(status)s.", name=record.name, status=STATUS_LABELS[record.status]), "success"
            )
    return redirect(url_for(".organisation", organisation_id=organisation_id))


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
def edit(organisation_id: int) -> Any:
    record = _organisation(organisation_id)
    form = StaffOrganisationForm(obj=record)
    if form.validate_on_submit():
        try:
            update_organisation(record, form.cleaned, actor=current_user.email)
        except InvalidOrganisation as invalid:
            for name, message in invalid.errors.items():
                form[name].errors = [message]
        else:
            flash(_("Saved. The index is up to date."), "success")
            return redirect(url_for(".organisation", organisation_id=organisation_id))
    return render_template("staff/edit.html", form=form, organisation=record), 422 if form.is_submitted() else 200


@bp.get("/introductions")
def introduction_queue() -> str:
    status = request.args.get("status", IntroductionStatus.NEW)
    query = select(IntroductionRequest).order_by(IntroductionRequest.created_at, IntroductionRequest.id)
    if status in set(IntroductionStatus):
        query = query.where(IntroductionRequest.status == status)
    return render_template(
        "staff/introductions.html",
        requests=list(db.session.scalars(query.limit(200))),
        status=status,
        statuses=list(IntroductionStatus),
        note_form=NoteForm(),
    )


@bp.post("/introductions/<int:request_id>")
def handle_introduction(request_id: int) -> Any:
    introduction = db.session.get(IntroductionRequest, request_id) or abort(404)
    form = NoteForm()
    if form.validate_on_submit():
        note = (form.note.data or "").strip()
        try:
            if form.action.data == "forward":
                introductions.forward(
                    introduction,
                    current_user.email,
                    lambda token: url_for("introductions.answer_page", token=token, _external=True),
                )
            elif form.action.data == "decline":
                introductions.decline(introduction, current_user.email, note)
            elif form.action.data == "close":
                introductions.close(introduction, current_user.email, note)
            else:
                abort(400)
        except introductions.IntroductionRefused as refusal:
            flash(str(refusal), "error")
        else:
            flash(_("Done."), "success")
    return redirect(url_for(".introduction_queue"))


@bp.route("/accounts", methods=["GET", "POST"])
@admin_only
def staff_accounts() -> Any:
    form = AccountForm()
    if form.validate_on_submit():
        try:
            accounts.create_staff(form.email.data or "", form.password.data or "", form.is_admin.data)
        except accounts.AccountError as refusal:
            form.email.errors = [str(refusal)]
        else:
            flash(_("Account created."), "success")
            return redirect(url_for(".staff_accounts"))
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    return render_template("staff/accounts.html", form=form, users=users, role_form=RoleForm())


@bp.post("/accounts/<int:user_id>")
@admin_only
def change_role(user_id: int) -> Any:
    user = db.session.get(StaffUser, user_id) or abort(404)
    form = RoleForm()
    if form.validate_on_submit():
        if user.id == current_user.id and not (form.is_admin.data and form.active.data):
            flash(_("You cannot remove your own administrator rights or deactivate yourself."), "error")
        else:
            accounts.set_role(user, form.is_admin.data, form.active.data)
            flash(_("Account updated."), "success")
    return redirect(url_for(".staff_accounts"))


@bp.get("/duplicates")
def duplicates() -> str:
    return render_template("staff/duplicates.html", flags=open_flags())


def _flag(flag_id: int) -> DuplicateFlag:
    flag = db.session.get(DuplicateFlag, flag_id)
    if flag is None or flag.status != DuplicateStatus.OPEN:
        abort(404)
    return flag


@bp.route("/duplicates/<int:flag_id>", methods=["GET", "POST"])
def compare(flag_id: int) -> Any:
    """Side by side; staff choose each differing field and which record to keep, or mark them distinct."""
    flag = _flag(flag_id)
    fields = differing_fields(flag.first, flag.second)
    form = NoteForm()
    if form.validate_on_submit():
        if form.action.data == "distinct":
            mark_distinct(flag, current_user.email)
            flash(_("Marked as two distinct organisations."), "success")
            return redirect(url_for(".duplicates"))
        if form.action.data not in ("keep_first", "keep_second"):
            abort(400)
        keep, other = (flag.first, flag.second) if form.action.data == "keep_first" else (flag.second, flag.first)
        take = [name for name in fields if request.form.get(f"use_{name}") == str(other.id)]
        try:
            merge(keep, other, take, current_user.email)
        except InvalidOrganisation as invalid:
            flash(_("The merged record would not be valid: %(errors)s", errors=str(invalid)), "error")
        else:
            flash(_("Merged into %(name)s.", name=keep.name), "success")
            return redirect(url_for(".organisation", organisation_id=keep.id))
    return render_template("staff/compare.html", flag=flag, fields=fields, form=form)


@bp.route("/import", methods=["GET", "POST"])
def import_upload() -> Any:
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        if Path(upload.filename or "").suffix.lower() not in SUFFIXES:
            form.file.errors = [_("Choose a CSV or XLSX file.")]
        else:
            job = store_upload(upload, current_user.email)
            return redirect(url_for(".import_mapping", job_id=job.id))
    jobs = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(20)).all()
    return render_template("staff/import_upload.html", form=form, jobs=jobs)


def _mapping_from(form: Any, header: list[str]) -> ColumnMapping:
    columns = {name: form.get(f"column_{name}") for name in IMPORT_FIELDS if form.get(f"column_{name}") in header}
    defaults = {"legal_form": form.get("default_legal_form", "other")}
    status = form.get("status") if form.get("status") in (Status.PENDING, Status.PUBLISHED) else Status.PENDING
    return ColumnMapping(columns=columns, defaults=defaults, status=status)


@bp.route("/import/<int:job_id>", methods=["GET", "POST"])
def import_mapping(job_id: int) -> Any:
    """Map the file's columns, preview the row-level report, then import (in the background)."""
    job = db.session.get(ImportJob, job_id) or abort(404)
    header = job.header()
    form = NoteForm()
    preview_report = None
    mapping = _mapping_from(request.form, header) if request.method == "POST" else ColumnMapping.identity(header)
    if form.validate_on_submit() and job.startable:
        if (
            not mapping.columns.get("name")
            or not mapping.columns.get("description")
            or not mapping.columns.get("country")
        ):
            flash(_("Map at least the name, country and description columns."), "error")
        elif form.action.data == "import":
            start_import(job, mapping, skip_invalid=request.form.get("skip_invalid") == "y")
            return redirect(url_for(".import_mapping", job_id=job.id))
        else:
            preview_report = preview(job, mapping)
    return render_template(
        "staff/import_mapping.html",
        job=job,
        header=header,
        fields=IMPORT_FIELDS,
        mapping=mapping,
        preview=preview_report,
        form=form,
        legal_forms=LEGAL_FORMS,
        skip_invalid=request.form.get("skip_invalid") == "y",
    )


@bp.get("/export")
def export_page() -> str:
    return render_template("staff/export.html", statuses=list(Status))


@bp.get("/export/download")
def export_download() -> Any:
    kind = request.args.get("format", "csv")
    statuses = [status for status in request.args.getlist("status") if status in set(Status)]
    include_contact = request.args.get("include_contact") == "y"
    if kind == "essglobal":
        text = io.StringIO()
        write_essglobal(text, statuses, include_contact)
        payload, filename, mimetype = text.getvalue().encode("utf-8"), "organisations-essglobal.csv", "text/csv"
    elif kind in ("csv", "xlsx"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"organisations.{kind}"
            write_export(path, statuses, include_contact)
            payload, filename = path.read_bytes(), path.name
        mimetype = "text/csv" if kind == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(400)
    return send_file(io.BytesIO(payload), mimetype=mimetype, as_attachment=True, download_name=filename)
