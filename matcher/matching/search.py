"""search(): a free-text query in any EU language, ranked by fusing meaning and keywords.

Two rankings of the published organisations that pass the filters: by meaning (the query's
vector against descriptions and offers, across languages) and by keywords (BM25, which finds
names and rare exact words). Reciprocal rank fusion merges them; an organisation whose name is
the query, or a text holding a "quoted phrase", comes first. The result set is the union of both
candidate lists; facet counts are taken over it, each facet ignoring its own selection, so that
choosing one country still shows what the others hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from matcher.engine.keywords import words
from matcher.engine.language import detect_language
from matcher.matching.explain import Wishes, explain
from matcher.matching.ranking import (
    FILTER_ATTRIBUTES,
    Filters,
    Result,
    allowed_ids,
    organisations_by_id,
    query_vector,
    scored_candidates,
    spread,
    weighted,
)
from matcher.partners.indexing import index_service
from matcher.partners.models import Organisation

SEARCH_WEIGHTS = {"description": 0.7, "offers": 0.3}
# Candidates taken from each ranking; their union is the result set.
SEMANTIC_DEPTH = 100
KEYWORD_DEPTH = 100
# The usual constant of reciprocal rank fusion (Cormack et al., 2009).
RRF_K = 60
PER_PAGE = 20
PHRASE = re.compile(r'"([^"]+)"')


@dataclass(frozen=True)
class FacetValue:
    code: str
    count: int
    selected: bool


@dataclass
class SearchPage:
    """One page of results, with the whole result set's size and facet counts."""

    query: str
    filters: Filters
    results: list[Result]
    total: int
    page: int
    pages: int
    per_page: int
    facets: dict[str, list[FacetValue]]
    by_country: list[tuple[str, int]]  # the results per country (the countries facet ignores its own selection)

    @property
    def first_rank(self) -> int:
        return (self.page - 1) * self.per_page + 1


@dataclass(frozen=True)
class _Query:
    """A query read once: its text without quotes, quoted phrases, vector and keyword scores."""

    text: str
    phrases: tuple[str, ...]
    vectors: dict[str, np.ndarray]
    keyword_scores: dict[int, float]

    @classmethod
    def read(cls, text: str) -> _Query:
        plain = PHRASE.sub(r"\1", text).strip()
        vector = query_vector(plain, detect_language(plain))
        return cls(
            text=plain,
            phrases=tuple(" ".join(words(p)) for p in PHRASE.findall(text) if words(p)),
            vectors={"description": vector, "offers": vector},
            keyword_scores=index_service().keywords().scores(plain),
        )


def _priority(organisation: Organisation, query: _Query) -> int:
    """0: the name is the query; 1: the name holds it; 2: the texts hold every quoted phrase; 3: other."""
    wanted = " ".join(words(query.text))
    name = f" {' '.join(words(organisation.name))} "
    if wanted and name.strip() == wanted:
        return 0
    if len(wanted) >= 4 and f" {wanted} " in name:
        return 1
    if query.phrases:
        text = f" {' '.join(words(f'{organisation.name} {organisation.description} {organisation.offers}'))} "
        if all(f" {phrase} " in text for phrase in query.phrases):
            return 2
    return 3


def _ranked(query: _Query, filters: Filters) -> list[Result]:
    """The result set for these filters, best first."""
    allowed = allowed_ids(filters)
    keyword = sorted(
        ((i, score) for i, score in query.keyword_scores.items() if i in allowed), key=lambda item: (-item[1], item[0])
    )[:KEYWORD_DEPTH]
    scored = scored_candidates(query.vectors, allowed, SEMANTIC_DEPTH, extra=(i for i, _ in keyword))
    semantic = {i: weighted(parts, SEARCH_WEIGHTS) for i, parts in scored.items() if parts}
    fused: dict[int, float] = {}
    for ranking in (sorted(semantic, key=lambda i: (-semantic[i], i)), [i for i, _ in keyword]):
        for rank, i in enumerate(ranking, start=1):
            fused[i] = fused.get(i, 0.0) + 1 / (RRF_K + rank)
    organisations = organisations_by_id(fused)
    wishes = Wishes(filters.themes, filters.languages, filters.partnership_types)
    results = [
        Result(organisations[i], explain(semantic.get(i, 0.0), scored[i], organisations[i], wishes))
        for i in fused
        if scored.get(i)
    ]
    results.sort(key=lambda r: (_priority(r.organisation, query), -fused[r.organisation.id], r.organisation.id))
    return results


def search(text: str, k: int = 10, filters: Filters = Filters(), per_country: int | None = None) -> list[Result]:
    """Published organisations that answer a free-text query in any language, best first."""
    results = _ranked(_Query.read(text), filters)
    return spread(results, k, per_country, country_of=lambda r: r.organisation.country) if per_country else results[:k]


def _counts(results: list[Result], attribute: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        value = getattr(result.organisation, attribute)
        for code in value if isinstance(value, list) else [value]:
            if code:
                counts[code] = counts.get(code, 0) + 1
    return counts


def search_page(text: str, filters: Filters = Filters(), page: int = 1, per_page: int = PER_PAGE) -> SearchPage:
    """One page of results and the facet counts of the whole result set."""
    query = _Query.read(text)
    results = _ranked(query, filters)
    facets = {}
    for facet, attribute in FILTER_ATTRIBUTES.items():
        selected = getattr(filters, facet)
        among = _ranked(query, replace(filters, **{facet: ()})) if selected else results
        counts = _counts(among, attribute)
        for code in selected:
            counts.setdefault(code, 0)
        facets[facet] = [
            FacetValue(code, count, code in selected)
            for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]
    pages = max(1, -(-len(results) // per_page))
    page = min(max(page, 1), pages)
    return SearchPage(
        query=text,
        filters=filters,
        results=results[(page - 1) * per_page : page * per_page],
        total=len(results),
        page=page,
        pages=pages,
        per_page=per_page,
        facets=facets,
        by_country=sorted(_counts(results, "country").items(), key=lambda item: (-item[1], item[0])),
    )
