"""The emails of an introduction, each written in the language of the organisation that receives it."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from matcher import mail
from matcher.introductions.models import IntroductionRequest
from matcher.partners.models import Organisation
from matcher.partners.vocabulary import country_name


def _locale(organisation: Organisation) -> str:
    """The organisation's own language when the interface has it, else English."""
    language = organisation.description_language
    return language if language in current_app.config["LANGUAGES"] else "en"


def _card(organisation: Organisation) -> str:
    return f"{organisation.name} ({country_name(organisation.country)})\n{organisation.description}"


def ask_consent(request: IntroductionRequest, link: str) -> None:
    """To the target: who would like to meet it, and the link to accept or refuse."""
    target, requester = request.target, request.requester
    with force_locale(_locale(target)):
        body = "\n\n".join(
            part
            for part in (
                _("Hello,"),
                _(
                    "%(name)s would like to get in touch with your organisation for a possible partnership.",
                    name=requester.name,
                ),
                _card(requester),
                _("Their message:") + f"\n{request.message}" if request.message else "",
                _("Their contact details will be sent to you only if you accept. Answer here:") + f"\n{link}",
                _("The regional chamber of the social and solidarity economy"),
            )
            if part
        )
        mail.send(target.contact_email, _("An organisation would like to meet you"), body)


def share_contacts(request: IntroductionRequest) -> None:
    """After consent: each side receives the other's contact."""
    for receiver, other in ((request.target, request.requester), (request.requester, request.target)):
        with force_locale(_locale(receiver)):
            body = "\n\n".join(
                (
                    _("Hello,"),
                    _("%(name)s agreed to be put in touch. Here is the contact:", name=request.target.name)
                    if receiver is request.requester
                    else _("Thank you for accepting. Here is the contact of %(name)s:", name=other.name),
                    f"{other.name} ({country_name(other.country)})\n{other.contact_name} <{other.contact_email}>",
                    _("The regional chamber of the social and solidarity economy"),
                )
            )
            mail.send(receiver.contact_email, _("Introduction: %(name)s", name=other.name), body)


def tell_refused(request: IntroductionRequest) -> None:
    requester = request.requester
    with force_locale(_locale(requester)):
        body = "\n\n".join(
            (
                _("Hello,"),
                _("The organisation you asked to meet did not accept the introduction this time."),
                _("The regional chamber of the social and solidarity economy"),
            )
        )
        mail.send(requester.contact_email, _("Your introduction request"), body)
