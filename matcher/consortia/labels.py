"""What the builder's reason and problem codes mean, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _

from matcher.matching.consortium import Problem, Reason
from matcher.partners.vocabulary import country_name, legal_form_label, theme_label


def reason_text(reason: Reason) -> str:
    value = reason.value
    if reason.code == "required":
        return _("included on request (for example the lead partner)")
    if reason.code == "relevance":
        return _("relevance to the call: %(score).2f", score=float(value))
    if reason.code == "new_country":
        return _("brings a new country: %(country)s", country=country_name(str(value)))
    if reason.code == "legal_form":
        return _("brings a required legal form: %(form)s", form=legal_form_label(str(value)))
    if reason.code == "theme":
        return _("covers a required theme: %(theme)s", theme=theme_label(str(value)))
    return _("adds variety: less like the members chosen before it than a closer candidate")


def problem_text(problem: Problem) -> str:
    values = problem.values
    texts = {
        "too_few_candidates": lambda: _(
            "Only %(available)d candidates are relevant to the call; %(needed)d partners are needed.", **values
        ),
        "min_countries_above_size": lambda: _(
            "%(needed)d distinct countries cannot fit in a consortium of %(size)d partners.", **values
        ),
        "too_few_countries": lambda: _(
            "The candidates come from %(available)d countries; the call needs %(needed)d.", **values
        ),
        "country_cap_too_low": lambda: _(
            "With at most %(cap)d partners per country, only %(available)d of the %(needed)d places can be filled.",
            **values,
        ),
        "missing_legal_form": lambda: _(
            "No relevant candidate has the required legal form %(form)s.",
            form=legal_form_label(str(values["legal_form"])),
        ),
        "legal_forms_above_size": lambda: _(
            "%(needed)d required legal forms need at least %(needed)d partners; the consortium has %(size)d.", **values
        ),
        "missing_theme": lambda: _(
            "No relevant candidate works on the required theme %(theme)s.", theme=theme_label(str(values["theme"]))
        ),
        "themes_above_size": lambda: _(
            "Covering every required theme takes at least %(needed)d partners; the consortium has %(size)d.", **values
        ),
        "must_include_unknown": lambda: _(
            "Organisation %(id)s, which must be included, does not exist or is not published.", **values
        ),
        "must_include_excluded": lambda: _("Organisation %(id)s must be included but was swapped out.", **values),
        "must_include_exceeds_size": lambda: _(
            "%(required)d organisations must be included but the consortium has only %(size)d places.", **values
        ),
        "must_include_exceeds_country_cap": lambda: _(
            "%(required)d organisations that must be included come from %(country)s, above the limit of %(cap)d per "
            "country.",
            required=values["required"],
            cap=values["cap"],
            country=country_name(str(values["country"])),
        ),
    }
    if problem.code in texts:
        return texts[problem.code]()
    return _(
        "Each rule can be met alone, but not these together with %(size)d partners: %(constraints)s.",
        size=values["size"],
        constraints=", ".join(constraint_label(name) for name in str(values["constraints"]).split(",")),
    )


def constraint_label(name: str) -> str:
    labels = {
        "must_include": _("organisations to include"),
        "min_countries": _("minimum number of countries"),
        "max_per_country": _("maximum per country"),
        "required_legal_forms": _("required legal forms"),
        "required_themes": _("required themes"),
    }
    return labels.get(name, name)
