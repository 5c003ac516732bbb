"""Consortium builder: propose, explain each member, swap one for the next best, export."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from matcher.consortia.forms import ConsortiumForm
from matcher.consortia.labels import problem_text, reason_text
from matcher.consortia.proposal import Proposal, propose
from matcher.partners.exporting import table_bytes
from matcher.partners.vocabulary import country_name, legal_form_label, theme_label
from matcher.security import keep_private
from matcher.staff.views import require_staff

bp = Blueprint("consortia", __name__, url_prefix="/staff/consortium", template_folder="templates")
bp.before_request(require_staff)
bp.after_request(keep_private)

MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _proposal(form: ConsortiumForm) -> tuple[Proposal | None, list[int]]:
    swaps = request.args.getlist("swap", type=int)
    if "call" not in request.args or not form.validate():
        return None, swaps
    return propose(form.call.data, form.constraints(), tuple(swaps)), swaps


@bp.get("")
def builder() -> Any:
    form = ConsortiumForm(formdata=request.args)
    proposal, swaps = _proposal(form)
    return render_template(
        "consortia/builder.html",
        form=form,
        proposal=proposal,
        swaps=swaps,
        arguments=form.arguments() if proposal else {},
        reason_text=reason_text,
        problem_text=problem_text,
    )


@bp.get("/export.<kind>")
def export(kind: str) -> Any:
    form = ConsortiumForm(formdata=request.args)
    proposal, _swaps = _proposal(form)
    if kind not in MIMETYPES or proposal is None or not proposal.consortium.feasible:
        return redirect(url_for(".builder", **request.args.to_dict(flat=False)))
    columns = [_("Rank"), _("Name"), _("Country"), _("Legal form"), _("Themes"), _("Relevance"), _("Why"), "id"]
    rows = []
    for member in proposal.consortium.members:
        organisation = proposal.organisations[member.candidate.id]
        rows.append(
            [
                member.rank,
                organisation.name,
                country_name(organisation.country),
                legal_form_label(organisation.legal_form),
                "; ".join(theme_label(code) for code in organisation.themes),
                member.candidate.relevance,
                "; ".join(reason_text(reason) for reason in member.reasons),
                organisation.id,
            ]
        )
    return Response(
        table_bytes(columns, rows, kind),
        mimetype=MIMETYPES[kind],
        headers={"Content-Disposition": f"attachment; filename=consortium.{kind}"},
    )
