"""Back-office pages of API tokens: each staff member creates and revokes their own; administrators
see and revoke everyone's. A new token's secret is shown once, on the page that created it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from matcher.api.tokens import MAX_NAME, ApiToken, Scope, TokenRefused, create_token, revoke, tokens_of
from matcher.extensions import db
from matcher.profiles.forms import labelled
from matcher.security import keep_private
from matcher.staff.views import require_staff

bp = Blueprint("api_tokens", __name__, url_prefix="/staff/api-tokens", template_folder="templates")
bp.before_request(require_staff)
bp.after_request(keep_private)

SCOPE_LABELS = {
    Scope.READ: _l("read: every organisation, contact details included, and consortia"),
    Scope.WRITE: _l("write: read, plus create, change, publish and archive organisations"),
}
RATE_LIMITS = {
    "60 per minute": _l("60 requests a minute"),
    "600 per minute": _l("600 requests a minute"),
    "6000 per hour": _l("6,000 requests an hour"),
}


class TokenForm(FlaskForm):
    name = StringField(
        _l("What the token is for"),
        validators=[DataRequired(_l("Give the token a name.")), Length(max=MAX_NAME)],
        description=_l("For example: the regional network's map."),
        render_kw={"maxlength": MAX_NAME},
    )
    scope = SelectField(_l("Rights"), choices=labelled(SCOPE_LABELS), default=Scope.READ)
    rate_limit = SelectField(_l("Rate limit"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default = current_app.config["MATCHER_API_TOKEN_LIMIT"]
        self.rate_limit.choices = labelled({default: RATE_LIMITS.get(default, default), **RATE_LIMITS})
        if not self.rate_limit.data or self.rate_limit.data == "None":
            self.rate_limit.data = default


class RevokeForm(FlaskForm):
    """Only the CSRF token."""


def _page(form: TokenForm, secret: str = "", status: int = 200) -> tuple[str, int]:
    tokens = tokens_of(None if current_user.is_admin else current_user)
    return render_template(
        "api/tokens.html",
        form=form,
        tokens=tokens,
        secret=secret,
        revoke_form=RevokeForm(),
        scopes=SCOPE_LABELS,
        limits=RATE_LIMITS,
    ), status


@bp.get("")
def index() -> Any:
    return _page(TokenForm())


@bp.post("")
def create() -> Any:
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        _token, secret = create_token(current_user, form.name.data or "", form.scope.data or "", form.rate_limit.data)
    except TokenRefused as refusal:
        form.name.errors = [str(refusal)]
        return _page(form, status=422)
    flash(_("Token created. Copy it now: it will not be shown again."), "success")
    return _page(TokenForm(formdata=None), secret=secret)


@bp.post("/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Any:
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.owner_id != current_user.id and not current_user.is_admin):
        abort(404)
    if RevokeForm().validate_on_submit():
        revoke(token)
        flash(_("Token revoked: it no longer opens the API."), "success")
    return redirect(url_for(".index"))
