"""Routes of an enterprise's own profile: the form, its matches and the pages behind the private link."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from matcher.errors.views import render_error
from matcher.extensions import limiter
from matcher.introductions.operations import requests_of
from matcher.matching import Filters, Profile, match
from matcher.partners.access import find_by_token
from matcher.partners.models import Organisation
from matcher.partners.operations import SELF, delete_organisation, submit_profile, update_organisation
from matcher.profiles.forms import DeleteForm, FiltersForm, IntroductionForm, OrganisationFields, ProfileForm
from matcher.profiles.personal_data import personal_data
from matcher.security import keep_private

bp = Blueprint("profiles", __name__, template_folder="templates")

MATCHES = 10


def submission_limit() -> str:
    return current_app.config["MATCHER_SUBMISSION_LIMIT"]


def opened(token: str) -> Organisation | None:
    """The profile that the private link opens, remembered for the page's links; None for any other token."""
    organisation = find_by_token(token)
    if organisation is not None:
        g.token = token
    return organisation


def owned(token: str) -> Organisation:
    """The profile that the private link opens; 404 for any other token."""
    return opened(token) or abort(404)


bp.after_request(keep_private)


@bp.route("/find-partners", methods=["GET", "POST"])
@limiter.limit(submission_limit, methods=["POST"])
def find_partners() -> Any:
    form = ProfileForm()
    if form.validate_on_submit():
        token = submit_profile(form.cleaned, consent_publication=form.consent_publication.data)[1]
        flash(_("Your profile is saved. Staff will check it before it is shown to others."), "success")
        return redirect(url_for(".matches", token=token))
    return render_template("profiles/form.html", form=form), 422 if form.is_submitted() else 200


def _filters(form: FiltersForm) -> Filters:
    """The filters chosen in the form; values that are not offered as choices are ignored."""

    def chosen(name: str) -> tuple[str, ...]:
        field = form[name]
        offered = {choice.value for choice in field.choices}
        return tuple(value for value in field.data or () if value in offered)

    return Filters(
        countries=chosen("countries"),
        legal_forms=chosen("legal_forms"),
        themes=chosen("themes"),
        languages=chosen("languages"),
        partnership_types=chosen("partnership_types"),
    )


@bp.get("/profile/<token>/matches")
def matches(token: str) -> str:
    organisation = owned(token)
    filters_form = FiltersForm(formdata=request.args)
    filters = _filters(filters_form)
    results = match(Profile.of(organisation), k=MATCHES, filters=filters)
    by_country = Counter(result.organisation.country for result in results).most_common()
    asked = {introduction.target_id for introduction in requests_of(organisation)}
    return render_template(
        "profiles/matches.html",
        organisation=organisation,
        results=results,
        filters_form=filters_form,
        filtered=filters != Filters(),
        by_country=by_country,
        asked=asked,
        introduction_form=IntroductionForm(),
    )


@bp.get("/profile/<token>")
def profile(token: str) -> str:
    organisation = owned(token)
    return render_template("profiles/profile.html", organisation=organisation, introductions=requests_of(organisation))


@bp.route("/profile/<token>/edit", methods=["GET", "POST"])
@limiter.limit(submission_limit, methods=["POST"])
def edit(token: str) -> Any:
    organisation = owned(token)
    form = OrganisationFields(obj=organisation)
    if form.validate_on_submit():
        update_organisation(organisation, form.cleaned, require_contact=True, actor=SELF)
        flash(_("Your changes are saved; your matches are updated."), "success")
        return redirect(url_for(".matches", token=token))
    return render_template("profiles/edit.html", form=form, organisation=organisation), (
        422 if form.is_submitted() else 200
    )


@bp.get("/profile/<token>/data.json")
def download(token: str) -> Response:
    """Everything stored about the profile (right of access and portability)."""
    organisation = owned(token)
    response = current_app.json.response(personal_data(organisation))
    response.headers["Content-Disposition"] = f'attachment; filename="profile-{organisation.id}.json"'
    return response


@bp.route("/profile/<token>/delete", methods=["GET", "POST"])
def delete(token: str) -> Any:
    """Right to erasure: the profile, its vectors and its requests leave the database and the index at once."""
    organisation = owned(token)
    form = DeleteForm()
    if form.validate_on_submit():
        delete_organisation(organisation)
        flash(_("Your profile and all its data have been deleted."), "success")
        return redirect(url_for("public.home"))
    return render_template("profiles/delete.html", form=form, organisation=organisation)


# Pages whose form is shown again, with everything typed, when a submission is refused before the
# view runs (expired CSRF token, rate limit).
FORM_PAGES: dict[str, tuple[type[OrganisationFields], str]] = {
    "profiles.find_partners": (ProfileForm, "profiles/form.html"),
    "profiles.edit": (OrganisationFields, "profiles/edit.html"),
}


@bp.errorhandler(CSRFError)
@bp.errorhandler(429)
def redisplay(error: HTTPException) -> tuple[str, int] | BaseResponse:
    page = FORM_PAGES.get(request.endpoint or "")
    if page is None or request.method != "POST":
        return render_error(error)
    form_class, template = page
    context: dict[str, Any] = {"form": form_class()}
    if request.view_args and "token" in request.view_args:
        context["organisation"] = opened(request.view_args["token"])
        if context["organisation"] is None:
            return render_error(error)
    context["form_error"] = (
        _("The form had expired. Nothing is lost: check your entries and send them again.")
        if isinstance(error, CSRFError)
        else _("Too many submissions from your connection. Nothing is lost: please try again in a while.")
    )
    return render_template(template, **context), error.code or 400
