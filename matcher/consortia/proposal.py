"""A consortium for a call: candidates from the hybrid search, scored by meaning, then the builder.

Swaps are replayed in order from the start, so a page address holds the whole proposal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from matcher.engine.language import detect_language
from matcher.matching.consortium import Candidate, Consortium, Constraints, build, swap
from matcher.matching.ranking import organisations_by_id, query_vector, scored_candidates, weighted
from matcher.matching.search import SEARCH_WEIGHTS, search
from matcher.partners.indexing import index_service
from matcher.partners.models import Organisation
from matcher.partners.vocabulary import Status

# Candidates read from the search for the call: enough for every country to have a few.
POOL = 300


@dataclass
class Proposal:
    consortium: Consortium
    organisations: dict[int, Organisation]


def _candidates(call: str, include: tuple[int, ...]) -> tuple[list[Candidate], dict[int, Organisation]]:
    results = search(call, k=POOL)
    relevance = {r.organisation.id: r.explanation.semantic for r in results}
    organisations = {r.organisation.id: r.organisation for r in results}
    required = [o for o in organisations_by_id(include).values() if o.status in (Status.PUBLISHED, Status.PENDING)]
    organisations.update((o.id, o) for o in required)
    if unscored := [o.id for o in required if o.id not in relevance]:
        # Required organisations outside the search's results: scored the same way (0 when not indexed).
        vector = query_vector(call, detect_language(call))
        scored = scored_candidates({"description": vector, "offers": vector}, set(unscored), 0, extra=unscored)
        relevance.update((i, weighted(parts, SEARCH_WEIGHTS)) for i, parts in scored.items())
    with index_service().current() as bundle:
        vectors = bundle.field("description").vectors(list(organisations))
    candidates = [
        Candidate(
            id=o.id,
            country=o.country,
            legal_form=o.legal_form,
            themes=frozenset(o.themes),
            relevance=round(relevance.get(o.id, 0.0), 4),
            vector=vectors.get(o.id),
        )
        for o in organisations.values()
    ]
    return candidates, organisations


def propose(call: str, constraints: Constraints, swaps: tuple[int, ...] = ()) -> Proposal:
    """Build the consortium, then apply the user's swaps one after the other."""
    candidates, organisations = _candidates(call, constraints.must_include)
    consortium = build(candidates, constraints)
    for member_id in swaps:
        if not consortium.feasible or member_id not in {m.candidate.id for m in consortium.members}:
            continue
        constraints = replace(constraints, excluded=constraints.excluded | {member_id})
        consortium = swap(candidates, constraints, consortium, member_id)
    return Proposal(consortium, organisations)
