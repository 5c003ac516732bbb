"""Match, search and consortium: the same ranking the pages use, answered as JSON."""

from __future__ import annotations

from typing import Any

from matcher.api.auth import needs
from matcher.api.blueprints import ANYONE, STAFF, api_blueprint
from matcher.api.presenting import organisation_view, results_view
from matcher.api.schemas import (
    ConsortiumRequestSchema,
    ConsortiumResponseSchema,
    MatchRequestSchema,
    MatchResponseSchema,
    SearchArgsSchema,
    SearchResponseSchema,
)
from matcher.api.tokens import Scope
from matcher.consortia.labels import problem_text, reason_text
from matcher.consortia.proposal import propose
from matcher.matching import Profile, match
from matcher.matching.consortium import Constraints
from matcher.matching.filter_params import FILTER_PARAMS, filters_from_params
from matcher.matching.search import search_page
from matcher.partners.vocabulary import normalise_country

bp = api_blueprint("api_matching", "Partners for a profile, search by theme, consortia for calls.")


@bp.post("/match")
@bp.arguments(MatchRequestSchema)
@bp.response(200, MatchResponseSchema)
@bp.doc(security=ANYONE)
def match_profile(body: dict[str, Any]) -> dict[str, Any]:
    """Partners in other member states for a profile written in any EU language, each explained.

    Nothing is stored. Only published organisations are suggested, never from the profile's own country.
    """
    values = body["profile"]
    profile = Profile(
        description=values["description"],
        country=normalise_country(values["country"]),
        offers=values["offers"],
        seeks=values["seeks"],
        language=values["language"],
        themes=tuple(values["themes"]),
        languages=tuple(values["languages"]),
        partnership_types=tuple(values["partnership_types"]),
    )
    results = match(
        profile, k=body["limit"], filters=filters_from_params(body["filters"]), per_country=body["per_country"]
    )
    return {"results": results_view(results)}


@bp.get("/search")
@bp.arguments(SearchArgsSchema, location="query")
@bp.response(200, SearchResponseSchema)
@bp.doc(security=ANYONE)
def search(args: dict[str, Any]) -> dict[str, Any]:
    """Published organisations answering a query in any language (meaning and keywords), with facet counts.

    Filters are repeated parameters (country=DE&country=AT); each facet counts ignore its own selection.
    """
    page = search_page(args["q"], filters_from_params(args), page=args["page"], per_page=args["per_page"])
    return {
        "query": page.query,
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "per_page": page.per_page,
        "results": results_view(page.results, page.first_rank),
        "facets": {
            param: [vars(value) for value in page.facets[key]] for key, (param, _known) in FILTER_PARAMS.items()
        },
    }


@bp.post("/consortium")
@needs(Scope.READ)
@bp.arguments(ConsortiumRequestSchema)
@bp.response(200, ConsortiumResponseSchema)
@bp.doc(security=STAFF)
def consortium(body: dict[str, Any]) -> dict[str, Any]:
    """A consortium for a call (staff tokens): members from several countries, each with its reasons,
    or the rules that cannot be met."""
    constraints = Constraints(
        size=body["size"],
        min_countries=body["min_countries"],
        max_per_country=body["max_per_country"],
        required_legal_forms=frozenset(body["legal_forms"]),
        required_themes=frozenset(body["themes"]),
        must_include=tuple(dict.fromkeys(body["include"])),
    )
    proposal = propose(body["call"], constraints, tuple(body["swap"]))
    return {
        "feasible": proposal.consortium.feasible,
        "members": [
            {
                "rank": member.rank,
                "organisation": organisation_view(proposal.organisations[member.candidate.id]),
                "relevance": member.candidate.relevance,
                "reasons": [
                    {"code": reason.code, "value": reason.value, "text": reason_text(reason)}
                    for reason in member.reasons
                ],
            }
            for member in proposal.consortium.members
        ],
        "problems": [
            {"code": problem.code, "values": problem.values, "text": problem_text(problem)}
            for problem in proposal.consortium.problems
        ],
    }
