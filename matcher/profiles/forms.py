"""Forms of the public profile pages.

WTForms renders the fields and checks CSRF, consent and choices; the partner database's own
validator (matcher.partners.validation) checks the values, so a web form, an import and the API
accept exactly the same data.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from matcher.engine.language import EU_LANGUAGES
from matcher.introductions.operations import MAX_MESSAGE
from matcher.partners.models import Organisation
from matcher.partners.validation import LIMITS, MAX_LANGUAGES, MAX_THEMES, MIN_DESCRIPTION, validate_organisation
from matcher.partners.vocabulary import (
    EU_COUNTRIES,
    LEGAL_FORMS,
    PARTNERSHIP_TYPES,
    SIZES,
    THEMES,
    country_name,
    language_name,
)

Choices = list[SelectChoice]
# Fields that the partner database's validator requires (the contact: of a self-described enterprise).
REQUIRED = ("name", "country", "description")
CONTACT = ("contact_name", "contact_email")


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (usable on a phone, unlike a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def labelled(labels: Mapping[str, Any]) -> Choices:
    return [SelectChoice(code, label) for code, label in labels.items()]


def _by_name(codes: Iterable[str], name: Callable[[str], str]) -> Choices:
    """Sorted by name as a reader expects it: accents do not send "Éire" or "Österreich" to the end."""
    return sorted(
        (SelectChoice(code, name(code)) for code in codes),
        key=lambda choice: unicodedata.normalize("NFKD", choice.label).casefold(),
    )


def country_choices() -> Choices:
    return _by_name(EU_COUNTRIES, country_name)


def language_choices() -> Choices:
    return _by_name(EU_LANGUAGES, language_name)


def _text(label: Any, field: str, hint: Any, area: bool = False, **attributes: Any) -> StringField:
    kind = TextAreaField if area else StringField
    return kind(label, description=hint, render_kw={"maxlength": LIMITS[field], **attributes})


class OrganisationFields(FlaskForm):
    """Every field of the partner database that an enterprise fills in itself."""

    require_contact = True

    name = _text(
        _l("Name of the organisation"), "name", _l("As it appears on your documents."), autocomplete="organization"
    )
    country = SelectField(_l("Country"), description=_l("Where your organisation is registered."))
    region = _text(_l("Region"), "region", _l("For example: Auvergne-Rhône-Alpes, Bavaria, Andalusia."))
    city = _text(_l("City or town"), "city", _l("For example: Lyon."), autocomplete="address-level2")
    website = _text(_l("Website"), "website", _l("For example: https://www.example.org"), autocomplete="url")
    legal_form = SelectField(
        _l("Legal form"),
        choices=labelled(LEGAL_FORMS),
        default="association",
        description=_l("Choose “Other” if none of these fits your organisation."),
    )
    size = SelectField(
        _l("Size"),
        choices=[SelectChoice("", _l("Not stated")), *labelled(SIZES)],
        default="",
        description=_l("Staff, volunteers included."),
    )
    languages = CheckboxesField(
        _l("Languages spoken in your organisation"),
        description=_l("The languages in which a partner can work with you (at most %(limit)d).", limit=MAX_LANGUAGES),
    )
    description = _text(
        _l("Describe your organisation"),
        "description",
        _l(
            "In your own language, at least %(minimum)d characters: what you do, for whom, where. Example: "
            "“We are a work-integration cooperative in Lyon; we repair and sell second-hand bicycles and "
            "train long-term unemployed people as bike mechanics.”",
            minimum=MIN_DESCRIPTION,
        ),
        area=True,
        rows=6,
    )
    offers = _text(
        _l("What you can offer a partner"),
        "offers",
        _l("Example: training of mechanics, our repair-workshop method, hosting volunteers."),
        area=True,
        rows=3,
    )
    seeks = _text(
        _l("What you are looking for in a partner"),
        "seeks",
        _l("Example: a partner running a similar workshop to exchange staff, or a supplier of used bicycles."),
        area=True,
        rows=3,
    )
    partnership_types = CheckboxesField(
        _l("Kinds of partnership you want"),
        choices=labelled(PARTNERSHIP_TYPES),
        description=_l("Partners who want the same are shown a little higher."),
    )
    themes = CheckboxesField(
        _l("Themes"), choices=labelled(THEMES), description=_l("Choose up to %(limit)d.", limit=MAX_THEMES)
    )
    contact_name = _text(
        _l("Contact person"),
        "contact_name",
        _l("Never shown publicly; staff use it to introduce you."),
        autocomplete="name",
    )
    contact_email = _text(
        _l("Contact email"), "contact_email", _l("Never shown publicly."), autocomplete="email", type="email"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in REQUIRED + (CONTACT if self.require_contact else ()):
            self[name].flags.required = True
        self.country.choices = [SelectChoice("", _l("Choose…")), *country_choices()]
        self.languages.choices = language_choices()
        self.cleaned: dict[str, Any] = {}

    def organisation_data(self) -> dict[str, Any]:
        return {name: self[name].data for name in Organisation.EDITABLE_FIELDS if name in self}

    def validate(self, extra_validators: Any = None) -> bool:
        """WTForms checks (CSRF, consent, choices), then the partner database's own validator."""
        valid = super().validate(extra_validators)
        result = validate_organisation(self.organisation_data(), require_contact=self.require_contact)
        for name, message in result.errors.items():
            if name in self and message not in self[name].errors:
                self[name].errors = [*self[name].errors, message]
        self.cleaned = result.values
        return valid and result.ok


class ProfileForm(OrganisationFields):
    """The "find partners" form: the profile plus the two consents."""

    consent_processing = BooleanField(
        _l("I agree that the chamber stores and processes these data to suggest partners (required)."),
        validators=[DataRequired(message=_l("Without this consent we cannot suggest partners."))],
    )
    consent_publication = BooleanField(
        _l("Once staff have checked it, my profile may be published in the partner database (without contact details).")
    )


class FiltersForm(FlaskForm):
    """Refines the matches without retyping the profile (a GET form: nothing changes on the server)."""

    class Meta:
        csrf = False

    countries = CheckboxesField(_l("Countries"))
    legal_forms = CheckboxesField(_l("Legal forms"), choices=labelled(LEGAL_FORMS))
    themes = CheckboxesField(_l("Themes"), choices=labelled(THEMES))
    languages = CheckboxesField(_l("Languages spoken"))
    partnership_types = CheckboxesField(_l("Kinds of partnership"), choices=labelled(PARTNERSHIP_TYPES))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.countries.choices = country_choices()
        self.languages.choices = language_choices()


class IntroductionForm(FlaskForm):
    message = TextAreaField(
        _l("A short message for the partner (optional)"),
        description=_l("Say who you are and what you would like to do together. Staff pass it on."),
        render_kw={"maxlength": MAX_MESSAGE, "rows": 3},
    )


class AnswerForm(FlaskForm):
    """The target's answer to an introduction: which of the two buttons was pressed."""

    accept = SubmitField(_l("Yes, put us in touch"))
    refuse = SubmitField(_l("No, thank you"))


class DeleteForm(FlaskForm):
    """Only a CSRF token: erasing a profile must come from our own page."""
