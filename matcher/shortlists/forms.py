"""Forms of the shortlist pages (every one carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from matcher.shortlists.models import MAX_NAME, MAX_NOTE


class ShortlistForm(FlaskForm):
    name = StringField(
        _l("Name of the list"),
        validators=[DataRequired(_l("Give the list a name.")), Length(max=MAX_NAME)],
        render_kw={"maxlength": MAX_NAME},
    )
    shared = BooleanField(_l("Shared with all colleagues"))


class RenameForm(FlaskForm):
    name = StringField(
        _l("Name of the list"),
        validators=[DataRequired(_l("Give the list a name.")), Length(max=MAX_NAME)],
        render_kw={"maxlength": MAX_NAME},
    )


class EntryNoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Length(max=MAX_NOTE)], render_kw={"rows": 2, "maxlength": MAX_NOTE})


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class AddForm(FlaskForm):
    organisation_id = IntegerField(validators=[DataRequired()])
    shortlist_id = IntegerField(validators=[Optional()])
    new_name = StringField(_l("or a new list named"), validators=[Length(max=MAX_NAME)])
