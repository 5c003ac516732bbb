"""Forms of the back-office."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, TextAreaField
from wtforms.validators import DataRequired

from matcher.profiles.forms import OrganisationFields


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()], render_kw={"autocomplete": "username"})
    password = PasswordField(
        _l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )


class StaffOrganisationForm(OrganisationFields):
    """Staff edit every field; organisations imported from lists may have no contact."""

    require_contact = False


class NoteForm(FlaskForm):
    """A moderation or introduction action, with an optional note (a rejection's reason)."""

    action = HiddenField()
    note = TextAreaField(
        _l("Note (a reason is shown to colleagues in the history)"), render_kw={"rows": 2, "maxlength": 1000}
    )


class AccountForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "new-password"})
    is_admin = BooleanField(_l("Administrator (manages staff accounts)"))


class RoleForm(FlaskForm):
    is_admin = BooleanField(_l("Administrator"))
    active = BooleanField(_l("Active"))


class UploadForm(FlaskForm):
    file = FileField(
        _l("CSV or XLSX file"),
        validators=[FileRequired(_l("Choose a CSV or XLSX file."))],
        description=_l("First row: column names. CSV in UTF-8, separated by commas, semicolons or tabs."),
    )
