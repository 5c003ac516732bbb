"""match(): a profile's vectors against the index, restricted, boosted and explained; the pieces
search() shares (filters, candidates scored part by part)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, TypeVar

import numpy as np
from sqlalchemy import select

from matcher.engine.embedding import Role
from matcher.engine.id_set import IdSet
from matcher.engine.language import detect_language
from matcher.extensions import db
from matcher.matching.explain import Explanation, Wishes, explain
from matcher.partners.indexing import index_service
from matcher.partners.models import Organisation
from matcher.partners.vocabulary import Status

# Weights of the compared parts in a match. Description against description carries most;
# what one seeks against what the other offers comes next; the reverse direction last.
MATCH_WEIGHTS = {"description": 0.6, "their_offer": 0.25, "their_need": 0.15}
# Which index field each part is compared with.
PART_FIELDS = {"description": "description", "their_offer": "offers", "their_need": "seeks", "offers": "offers"}
MIN_POOL = 100
# A per-country cap needs candidates from many countries: a deeper pool.
SPREAD_POOL = 1000
T = TypeVar("T")


@dataclass(frozen=True)
class Filters:
    """Restrictions chosen by the user; an empty tuple means no restriction."""

    countries: tuple[str, ...] = ()
    legal_forms: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    partnership_types: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    description_languages: tuple[str, ...] = ()


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


# Each filter (a Filters field) and the organisation attribute it restricts.
FILTER_ATTRIBUTES = {
    "countries": "country",
    "legal_forms": "legal_form",
    "themes": "themes",
    "languages": "languages",
    "description_languages": "description_language",
    "partnership_types": "partnership_types",
    "sizes": "size",
}


def allowed_ids(
    filters: Filters,
    exclude_country: str = "",
    statuses: Iterable[str] = (Status.PUBLISHED,),
    changed_since: datetime | None = None,
) -> AbstractSet[int]:
    """Ids of the organisations in these statuses (published ones by default) that pass the filters.

    The published ones come from the process's in-memory attribute table (it follows the change
    sequence like the indexes); other statuses, or a change date, are asked of the database.
    """
    wanted = {attribute: getattr(filters, name) for name, attribute in FILTER_ATTRIBUTES.items()}
    if list(statuses) == [Status.PUBLISHED] and changed_since is None:
        excluded = {"country": exclude_country} if exclude_country else None
        return IdSet(index_service().attributes().matching(wanted, excluded))
    return _ids_from_database(wanted, exclude_country, statuses, changed_since)


def _ids_from_database(
    wanted: dict[str, tuple[str, ...]], exclude_country: str, statuses: Iterable[str], changed_since: datetime | None
) -> set[int]:
    """List fields (JSON) are read and checked only when a filter asks for them."""
    lists = {name: set(values) for name in ("themes", "languages", "partnership_types") if (values := wanted[name])}
    query = select(Organisation.id, *(getattr(Organisation, name) for name in lists)).where(
        Organisation.status.in_(list(statuses))
    )
    if changed_since is not None:
        query = query.where(Organisation.updated_at >= changed_since)
    if exclude_country:
        query = query.where(Organisation.country != exclude_country)
    for name in ("country", "legal_form", "size", "description_language"):
        if wanted[name]:
            query = query.where(getattr(Organisation, name).in_(wanted[name]))
    if not lists:
        return set(db.session.scalars(query))
    return {
        row[0]
        for row in db.session.execute(query)
        if all(want & set(values) for want, values in zip(lists.values(), row[1:], strict=True))
    }


def query_vector(text: str, language: str, role: Role = "query") -> np.ndarray:
    service = index_service()
    raw = service.query_vectors([text], role)
    return service.centering.apply(raw, [language or detect_language(text)], role)[0]


def scored_candidates(
    queries: dict[str, np.ndarray], allowed: AbstractSet[int], pool: int, extra: Iterable[int] = ()
) -> dict[int, dict[str, float]]:
    """Candidates gathered from each part's index (plus `extra` ids), every part scored exactly."""
    candidates = set(extra) & allowed
    with index_service().current() as bundle:
        for part, vector in queries.items():
            candidates.update(i for i, _ in bundle.field(PART_FIELDS[part]).search(vector, pool, allowed))
        stored = {part: bundle.field(PART_FIELDS[part]).vectors(candidates) for part in queries}
    scored: dict[int, dict[str, float]] = {i: {} for i in candidates}
    for part, vector in queries.items():
        if stored[part]:
            cosines = np.stack(list(stored[part].values())) @ vector
            for i, cosine in zip(stored[part], cosines.tolist(), strict=True):
                scored[i][part] = cosine
    return scored


def weighted(parts: dict[str, float], weights: dict[str, float]) -> float:
    """The parts' weighted mean, over the parts the candidate has."""
    total = sum(weights[part] for part in parts)
    return sum(weights[part] * value for part, value in parts.items()) / total if total else 0.0


def organisations_by_id(ids: Iterable[int]) -> dict[int, Organisation]:
    ids = list(ids)
    if not ids:
        return {}
    return {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))}


class Facts(NamedTuple):
    """What the boosts and the spread over countries read of a candidate."""

    id: int
    country: str
    themes: list[str]
    languages: list[str]
    partnership_types: list[str]


def _candidate_facts(ids: Iterable[int]) -> dict[int, Facts]:
    """From the in-memory attribute table of the published organisations, so that only the results'
    organisations are loaded whole. One unpublished or removed since the candidates were gathered is
    no longer there, and is left out."""
    records = index_service().attributes().records(ids)
    return {i: Facts(**{name: r[name] for name in Facts._fields}) for i, r in records.items()}  # type: ignore[arg-type]


def _rank(
    queries: dict[str, np.ndarray],
    weights: dict[str, float],
    allowed: AbstractSet[int],
    k: int,
    wishes: Wishes,
    per_country: int | None = None,
) -> list[Result]:
    """Gather candidates from each part's index, score every part exactly, boost, sort."""
    pool = max(MIN_POOL, 10 * k) if not per_country else max(SPREAD_POOL, 50 * k)
    scored = scored_candidates(queries, allowed, pool)
    facts = _candidate_facts(scored)
    ranked = sorted(
        (
            (facts[i], explain(weighted(parts, weights), parts, facts[i], wishes))
            for i, parts in scored.items()
            if parts
        ),
        key=lambda pair: (-pair[1].score, pair[0].id),
    )
    chosen = spread(ranked, k, per_country, country_of=lambda pair: pair[0].country) if per_country else ranked[:k]
    organisations = organisations_by_id(candidate.id for candidate, _ in chosen)
    return [Result(organisations[c.id], explanation) for c, explanation in chosen if c.id in organisations]


def spread(ranked: list[T], k: int, per_country: int, country_of: Callable[[T], str]) -> list[T]:
    """The best k with at most `per_country` from one country, as long as other countries have
    candidates; the list is filled up from the remaining ones in rank order otherwise."""
    taken: list[T] = []
    counts: dict[str, int] = {}
    for item in ranked:
        country = country_of(item)
        if counts.get(country, 0) < per_country:
            taken.append(item)
            counts[country] = counts.get(country, 0) + 1
            if len(taken) == k:
                return taken
    chosen = {id(item) for item in taken}
    taken += [item for item in ranked if id(item) not in chosen][: k - len(taken)]
    position = {id(item): i for i, item in enumerate(ranked)}
    taken.sort(key=lambda item: position[id(item)])
    return taken


def match(profile: Profile, k: int = 10, filters: Filters = Filters(), per_country: int | None = None) -> list[Result]:
    """Best partners for the profile in other member states, published only, explained."""
    language = profile.language or detect_language(profile.description)
    queries = {"description": query_vector(profile.description, language)}
    if profile.seeks:
        queries["their_offer"] = query_vector(profile.seeks, language)
    if profile.offers:
        queries["their_need"] = query_vector(profile.offers, language)
    wishes = Wishes(profile.themes, profile.languages, profile.partnership_types)
    allowed = allowed_ids(filters, exclude_country=profile.country)
    return _rank(queries, MATCH_WEIGHTS, allowed, k, wishes, per_country)
