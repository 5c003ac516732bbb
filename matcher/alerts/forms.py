"""The form that saves a search (its filters come as repeated parameters, read beside it)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from matcher.alerts.models import MAX_NAME, MAX_QUERY


class SaveSearchForm(FlaskForm):
    name = StringField(
        _l("Name of the saved search"),
        validators=[Length(max=MAX_NAME)],
        description=_l("Optional: the search text is used when empty."),
        render_kw={"maxlength": MAX_NAME},
    )
    q = StringField(
        _l("Search text"),
        validators=[DataRequired(_l("Type what to search for.")), Length(max=MAX_QUERY)],
        render_kw={"maxlength": MAX_QUERY},
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
