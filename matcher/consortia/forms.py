"""The call and its rules (a GET form: the page address is the proposal, so it can be shared)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from matcher.matching.consortium import Constraints
from matcher.partners.vocabulary import LEGAL_FORMS, THEMES
from matcher.profiles.forms import CheckboxesField, labelled

MAX_CALL = 5000
MAX_MEMBERS = 20


class ConsortiumForm(FlaskForm):
    class Meta:
        csrf = False

    call = TextAreaField(
        _l("The call"),
        description=_l("Paste the call's description or summarise its aim, in any EU language."),
        validators=[DataRequired(), Length(min=10, max=MAX_CALL)],
        render_kw={"rows": 6, "maxlength": MAX_CALL},
    )
    size = IntegerField(
        _l("Number of partners"), default=5, validators=[DataRequired(), NumberRange(min=1, max=MAX_MEMBERS)]
    )
    min_countries = IntegerField(
        _l("Distinct countries at least"), default=3, validators=[DataRequired(), NumberRange(min=1, max=MAX_MEMBERS)]
    )
    max_per_country = IntegerField(
        _l("Partners from one country at most"),
        description=_l("Leave empty for no limit."),
        validators=[Optional(), NumberRange(min=1, max=MAX_MEMBERS)],
    )
    legal_forms = CheckboxesField(_l("Legal forms the consortium must include"), choices=labelled(LEGAL_FORMS))
    themes = CheckboxesField(_l("Themes the consortium must cover"), choices=labelled(THEMES))
    include = StringField(
        _l("Organisations that must be included"),
        description=_l("Their numbers, separated by commas (the number is in the address of an organisation's page)."),
        validators=[Optional(), Regexp(r"^[\d,\s]*$", message=_l("Write numbers separated by commas."))],
    )

    def included_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(int(part) for part in (self.include.data or "").replace(" ", "").split(",") if part))

    def constraints(self, excluded: frozenset[int] = frozenset()) -> Constraints:
        return Constraints(
            size=self.size.data,
            min_countries=self.min_countries.data,
            max_per_country=self.max_per_country.data,
            required_legal_forms=frozenset(self.legal_forms.data or ()),
            required_themes=frozenset(self.themes.data or ()),
            must_include=self.included_ids(),
            excluded=excluded,
        )

    def arguments(self) -> dict[str, Any]:
        """The form as page-address arguments, for swap and export links."""
        return {
            "call": self.call.data,
            "size": self.size.data,
            "min_countries": self.min_countries.data,
            "max_per_country": self.max_per_country.data or "",
            "legal_forms": self.legal_forms.data or [],
            "themes": self.themes.data or [],
            "include": self.include.data or "",
        }
