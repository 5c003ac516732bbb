"""match() and search(): query vectors against the index, restricted, boosted and explained."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from matcher.engine.embedding import Role
from matcher.engine.language import detect_language
from matcher.extensions import db
from matcher.matching.explain import Explanation, Wishes, explain
from matcher.partners.indexing import index_service
from matcher.partners.models import Organisation
from matcher.partners.vocabulary import Status

# Weights of the compared parts in a match. Description against description carries most;
# what one seeks against what the other offers comes next; the reverse direction last.
MATCH_WEIGHTS = {"description": 0.6, "their_offer": 0.25, "their_need": 0.15}
SEARCH_WEIGHTS = {"description": 0.7, "offers": 0.3}
# Which index field each part is compared with.
PART_FIELDS = {"description": "description", "their_offer": "offers", "their_need": "seeks", "offers": "offers"}
MIN_POOL = 100
# A per-country cap needs candidates from many countries: a deeper pool.
SPREAD_POOL = 1000


@dataclass(frozen=True)
class Filters:
    """Restrictions chosen by the user; an empty tuple means no restriction."""

    countries: tuple[str, ...] = ()
    legal_forms: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    partnership_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """The asking organisation, as typed in a form or read from the database."""

    description: str
    country: str
    offers: str = ""
    seeks: str = ""
    language: str = ""
    themes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    partnership_types: tuple[str, ...] = ()

    @classmethod
    def of(cls, organisation: Organisation) -> Profile:
        return cls(
            description=organisation.description,
            country=organisation.country,
            offers=organisation.offers,
            seeks=organisation.seeks,
            language=organisation.description_language,
            themes=tuple(organisation.themes),
            languages=tuple(organisation.languages),
            partnership_types=tuple(organisation.partnership_types),
        )


@dataclass
class Result:
    organisation: Organisation
    explanation: Explanation


def _allowed(filters: Filters, exclude_country: str = "") -> set[int]:
    """Ids of the published organisations that pass the filters.

    List fields (JSON) are read and checked only when a filter asks for them: decoding them for
    every organisation would dominate the cost of a search.
    """
    wanted = {
        name: set(values) for name in ("themes", "languages", "partnership_types") if (values := getattr(filters, name))
    }
    query = select(Organisation.id, *(getattr(Organisation, name) for name in wanted)).where(
        Organisation.status == Status.PUBLISHED
    )
    if exclude_country:
        query = query.where(Organisation.country != exclude_country)
    if filters.countries:
        query = query.where(Organisation.country.in_(filters.countries))
    if filters.legal_forms:
        query = query.where(Organisation.legal_form.in_(filters.legal_forms))
    return {
        row[0]
        for row in db.session.execute(query)
        if all(want & set(values) for want, values in zip(wanted.values(), row[1:], strict=True))
    }


def _query_vector(text: str, language: str, role: Role = "query") -> np.ndarray:
    service = index_service()
    raw = service.embedder.encode([text], role)
    return service.centering.apply(raw, [language or detect_language(text)], role)[0]


def _rank(
    queries: dict[str, np.ndarray],
    weights: dict[str, float],
    allowed: set[int],
    k: int,
    wishes: Wishes,
    per_country: int | None = None,
) -> list[Result]:
    """Gather candidates from each part's index, score every part exactly, boost, sort."""
    pool = max(MIN_POOL, 10 * k) if not per_country else max(SPREAD_POOL, 50 * k)
    candidates: set[int] = set()
    with index_service().current() as bundle:
        for part, vector in queries.items():
            candidates.update(i for i, _ in bundle.field(PART_FIELDS[part]).search(vector, pool, allowed))
        stored = {part: bundle.field(PART_FIELDS[part]).vectors(candidates) for part in queries}
    organisations = (
        db.session.scalars(select(Organisation).where(Organisation.id.in_(candidates))) if candidates else []
    )
    results = []
    for organisation in organisations:
        parts = {
            part: float(stored[part][organisation.id] @ queries[part])
            for part in queries
            if organisation.id in stored[part]
        }
        total = sum(weights[part] for part in parts)
        semantic = sum(weights[part] * value for part, value in parts.items()) / total
        results.append(Result(organisation, explain(semantic, parts, organisation, wishes)))
    results.sort(key=lambda r: (-r.explanation.score, r.organisation.id))
    return _spread(results, k, per_country) if per_country else results[:k]


def _spread(ranked: list[Result], k: int, per_country: int) -> list[Result]:
    """The best k with at most `per_country` from one country, as long as other countries have
    candidates; the list is filled up from the remaining ones in rank order otherwise."""
    taken: list[Result] = []
    counts: dict[str, int] = {}
    for result in ranked:
        country = result.organisation.country
        if counts.get(country, 0) < per_country:
            taken.append(result)
            counts[country] = counts.get(country, 0) + 1
            if len(taken) == k:
                return taken
    chosen = {id(r) for r in taken}
    taken += [r for r in ranked if id(r) not in chosen][: k - len(taken)]
    taken.sort(key=lambda r: (-r.explanation.score, r.organisation.id))
    return taken


def match(profile: Profile, k: int = 10, filters: Filters = Filters(), per_country: int | None = None) -> list[Result]:
    """Best partners for the profile in other member states, published only, explained."""
    language = profile.language or detect_language(profile.description)
    queries = {"description": _query_vector(profile.description, language)}
    if profile.seeks:
        queries["their_offer"] = _query_vector(profile.seeks, language)
    if profile.offers:
        queries["their_need"] = _query_vector(profile.offers, language)
    wishes = Wishes(profile.themes, profile.languages, profile.partnership_types)
    allowed = _allowed(filters, exclude_country=profile.country)
    return _rank(queries, MATCH_WEIGHTS, allowed, k, wishes, per_country)


def search(text: str, k: int = 10, filters: Filters = Filters(), per_country: int | None = None) -> list[Result]:
    """Published organisations whose description or offer answers a free-text query, in any language."""
    vector = _query_vector(text, detect_language(text))
    queries = {"description": vector, "offers": vector}
    wishes = Wishes(filters.themes, filters.languages, filters.partnership_types)
    return _rank(queries, SEARCH_WEIGHTS, _allowed(filters), k, wishes, per_country)
