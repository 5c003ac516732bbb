"""Asking, from one's matches page, to be introduced to a suggested partner."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from matcher.errors.views import render_error
from matcher.extensions import db, limiter
from matcher.introductions.operations import IntroductionRefused, answer, by_consent_token, request_introduction
from matcher.partners.models import Organisation
from matcher.partners.vocabulary import Status
from matcher.profiles.forms import AnswerForm, IntroductionForm
from matcher.profiles.views import opened, owned

bp = Blueprint("introductions", __name__, template_folder="templates")


def introduction_limit() -> str:
    return current_app.config["MATCHER_INTRODUCTION_LIMIT"]


def _proposable(target_id: int, requester: Organisation) -> Organisation | None:
    """A partner that may be proposed to the requester: published and in another country."""
    target = db.session.get(Organisation, target_id)
    if target is None or target.status != Status.PUBLISHED or target.country == requester.country:
        return None
    return target


def _page(target: Organisation, form: IntroductionForm, error: str = "", status: int = 200) -> tuple[str, int]:
    return render_template("introductions/request.html", target=target, form=form, form_error=error), status


@bp.route("/profile/<token>/introductions/<int:target_id>", methods=["GET", "POST"])
@limiter.limit(introduction_limit, methods=["POST"])
def ask(token: str, target_id: int) -> Any:
    requester = owned(token)
    target = _proposable(target_id, requester) or abort(404)
    form = IntroductionForm()
    if not form.validate_on_submit():
        return _page(target, form, status=422 if form.is_submitted() else 200)
    try:
        request_introduction(requester, target, form.message.data or "")
    except IntroductionRefused as refusal:
        return _page(target, form, str(refusal), 422)
    flash(_("Your request is recorded. Staff will contact %(name)s and come back to you.", name=target.name), "success")
    return redirect(url_for("profiles.matches", token=token))


@bp.errorhandler(CSRFError)
@bp.errorhandler(429)
def redisplay(error: HTTPException) -> tuple[str, int]:
    """Show the request again with the message typed, saying why it was not sent."""
    args = request.view_args or {}
    requester = opened(args.get("token", ""))
    target = _proposable(args.get("target_id", 0), requester) if requester else None
    if target is None:
        return render_error(error)
    message = (
        _("The form had expired. Nothing is lost: check your message and send it again.")
        if isinstance(error, CSRFError)
        else _("Too many requests from your connection. Nothing is lost: please try again in a while.")
    )
    return _page(target, IntroductionForm(), message, error.code or 400)


@bp.route("/introductions/answer/<token>", methods=["GET", "POST"])
def answer_page(token: str) -> Any:
    """The target of a forwarded request accepts or refuses it, through the link it received by email."""
    introduction = by_consent_token(token) or abort(404)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            answer(introduction, accept=form.accept.data)
        except IntroductionRefused as refusal:
            flash(str(refusal), "error")
        else:
            flash(
                _("Thank you: your answer is recorded.") if form.accept.data else _("Your answer is recorded."),
                "success",
            )
        return redirect(url_for(".answer_page", token=token))
    return render_template("introductions/answer.html", introduction=introduction, form=form)
