"""Consortium builder for EU calls (Erasmus+, Interreg, ESF+, Horizon) that need partners from several countries.

A pure algorithm: no database, no Flask. The caller passes the candidates (with their relevance to the call)
and the call's constraints; it receives the members with the reasons each holds its place, or, when no
consortium can meet the constraints, the problems that say which constraint fails and why.

Selection is greedy in the manner of maximal marginal relevance (relevance minus a penalty for resembling
the members already chosen), with an exact look-ahead: a candidate is taken only if the places left can
still meet every unmet requirement. The greedy therefore never paints itself into a corner, and finds a
consortium whenever one exists.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import combinations
from typing import NamedTuple

import numpy as np


@dataclass(frozen=True)
class Candidate:
    """An organisation that could join, with its relevance to the call (higher is better)."""

    id: int
    country: str  # ISO 3166 alpha-2, e.g. "DE"
    legal_form: str  # code, e.g. "cooperative"
    themes: frozenset[str]  # theme codes
    relevance: float  # similarity to the call, typically 0 (unrelated) to 0.5
    # Unit-norm description vector for the diversity term; not compared (arrays have no single truth value).
    vector: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Constraints:
    """What the call asks of a consortium; `excluded` holds the ids the user swapped out."""

    size: int  # number of partners wanted
    min_countries: int = 1  # distinct countries at least
    max_per_country: int | None = None  # members from one country at most
    required_legal_forms: frozenset[str] = frozenset()  # each needs at least one member of that legal form
    required_themes: frozenset[str] = frozenset()  # each covered by at least one member
    must_include: tuple[int, ...] = ()  # ids that must be members, in this order (e.g. the lead)
    excluded: frozenset[int] = frozenset()  # ids never chosen

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError("a consortium has at least one member")
        if self.max_per_country is not None and self.max_per_country < 1:
            raise ValueError("max_per_country must allow at least one member per country")


@dataclass(frozen=True)
class Reason:
    """Why a member holds its place: a code and a value the page localises.

    required: in `must_include` (value ""); legal_form / theme: the first member to bring that required
    legal form / theme (value: its code); new_country: the first member from its country (value: the country);
    relevance: chosen for its relevance (value: the score); diverse: a more relevant candidate would also
    have fitted, but this one resembles the members before it less (value: its highest cosine similarity to them).
    """

    code: str
    value: str | float = ""


@dataclass(frozen=True)
class Member:
    """A chosen candidate, its rank in the order of selection (from 1) and its reasons, most important first."""

    candidate: Candidate
    rank: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Problem:
    """Why the constraints cannot be met: a code and the numbers or names that explain it.

    Single constraints (with the size and the exclusions), each with its values:
    too_few_candidates {needed, available}; min_countries_above_size {needed, size};
    too_few_countries {needed, available}; country_cap_too_low {needed, available, cap} (available: the
    most members the cap lets in); missing_legal_form {legal_form}; legal_forms_above_size {needed, size};
    missing_theme {theme}; themes_above_size {needed, size} (needed: fewest members covering them all);
    must_include_unknown {id}; must_include_excluded {id}; must_include_exceeds_size {required, size};
    must_include_exceeds_country_cap {country, required, cap}.
    Otherwise combination {constraints, size}: the comma-separated names of the smallest sets of
    constraints that fail together, though each holds alone.
    """

    code: str
    values: dict[str, str | int]


@dataclass(frozen=True)
class Consortium:
    """The members in rank order, or no members and the problems that prevent a consortium."""

    members: tuple[Member, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def feasible(self) -> bool:
        return not self.problems


# The constraints that can be switched off, with the value that switches each off (for "combination").
RELAXED: dict[str, object] = {
    "must_include": (),
    "min_countries": 1,
    "max_per_country": None,
    "required_legal_forms": frozenset(),
    "required_themes": frozenset(),
}


def build(candidates: Sequence[Candidate], constraints: Constraints, diversity: float = 0.3) -> Consortium:
    """The most relevant consortium that meets every constraint, or the problems that prevent one.

    Candidate ids are unique. `diversity` weighs the penalty for resembling members already chosen
    (the highest cosine similarity of description vectors; 0 selects by relevance alone).
    """
    by_id = {candidate.id: candidate for candidate in candidates}
    problems = _single_problems(by_id, constraints)
    if problems:
        return Consortium((), problems)
    plan = _Plan.start(by_id, constraints)
    if not plan.extendable():
        return Consortium((), _combination_problems(by_id, constraints))
    return Consortium(_select(plan, list(by_id.values()), diversity))


def swap(
    candidates: Sequence[Candidate],
    constraints: Constraints,
    consortium: Consortium,
    member_id: int,
    diversity: float = 0.3,
) -> Consortium:
    """The same consortium with `member_id` replaced by the best candidate that keeps every constraint.

    The other members keep their ranks and reasons; the newcomer takes the rank of the one it replaces.
    When nobody can take its place (or `member_id` is in `must_include`), no members and the problems.
    The caller adds `member_id` to its own `excluded` so that later swaps do not bring it back.
    """
    ids = [member.candidate.id for member in consortium.members]
    if member_id not in ids:
        raise ValueError(f"{member_id} is not a member of the consortium")
    kept = tuple(dict.fromkeys(constraints.must_include + tuple(i for i in ids if i != member_id)))
    rebuilt = build(
        candidates,
        replace(constraints, must_include=kept, excluded=constraints.excluded | {member_id}),
        diversity,
    )
    if not rebuilt.feasible:
        return rebuilt
    newcomer = rebuilt.members[-1]
    return Consortium(
        tuple(
            replace(newcomer, rank=member.rank) if member.candidate.id == member_id else member
            for member in consortium.members
        )
    )


def _select(plan: _Plan, candidates: list[Candidate], diversity: float) -> tuple[Member, ...]:
    """After the must-include members, greedily the best-scoring candidate the look-ahead allows."""
    scores = _Scores(candidates, diversity)
    for candidate in plan.members:
        scores.join(candidate)
    while plan.slots:
        fits = plan.fitter()
        chosen = next(c for c in scores.ranking() if c.id in plan.open and fits(c))
        reasons = (Reason("relevance", chosen.relevance),)
        if diversity and _displaced(plan, fits, chosen, scores.by_relevance):
            reasons += (Reason("diverse", round(scores.closest_to(chosen), 4)),)
        plan.reasons.append(plan.add(chosen) + reasons)
        scores.join(chosen)
    return tuple(
        Member(candidate, rank, reasons)
        for rank, (candidate, reasons) in enumerate(zip(plan.members, plan.reasons, strict=True), start=1)
    )


def _displaced(plan: _Plan, fits: _Fits, chosen: Candidate, by_relevance: list[Candidate]) -> bool:
    """Whether a more relevant candidate would also have fitted: then the diversity term made the choice."""
    more_relevant = (c for c in by_relevance if c.relevance > chosen.relevance)
    return any(c.id in plan.open and fits(c) for c in more_relevant)


class _Scores:
    """Relevance minus the diversity penalty, kept up to date (vectorised) as members join."""

    def __init__(self, candidates: list[Candidate], diversity: float) -> None:
        self.candidates = candidates
        self.by_relevance = sorted(candidates, key=lambda c: (-c.relevance, c.id))
        self.index = {candidate.id: i for i, candidate in enumerate(candidates)}
        self.ids = np.array([candidate.id for candidate in candidates])
        self.relevance = np.array([candidate.relevance for candidate in candidates], dtype=float)
        self.vectors = _unit_rows(candidates)
        # Starts at 0: a description unlike every member's is not rewarded beyond having no penalty.
        self.closest = np.zeros(len(candidates))
        self.diversity = diversity

    def join(self, member: Candidate) -> None:
        if member.vector is not None:
            np.maximum(self.closest, self.vectors @ _unit(member.vector), out=self.closest)

    def closest_to(self, candidate: Candidate) -> float:
        return float(self.closest[self.index[candidate.id]])

    def ranking(self) -> list[Candidate]:
        score = self.relevance - self.diversity * self.closest
        return [self.candidates[i] for i in np.lexsort((self.ids, -score))]


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _unit_rows(candidates: list[Candidate]) -> np.ndarray:
    """Unit description vectors, a zero row where a candidate has none (so it is never penalised)."""
    dim = next((len(c.vector) for c in candidates if c.vector is not None), 0)
    rows = np.zeros((len(candidates), dim))
    for i, candidate in enumerate(candidates):
        if candidate.vector is not None:
            rows[i] = _unit(np.asarray(candidate.vector, dtype=float))
    return rows


class _Plan:
    """The members chosen so far, the open pool and the requirements still unmet.

    Required legal forms and themes are numbered items; each candidate covers a bit mask of them.
    """

    def __init__(self, by_id: dict[int, Candidate], constraints: Constraints) -> None:
        self.constraints = constraints
        self.items = [("legal_form", code) for code in sorted(constraints.required_legal_forms)] + [
            ("theme", code) for code in sorted(constraints.required_themes)
        ]
        self.masks = {i: _mask(candidate, self.items) for i, candidate in by_id.items()}
        self.open = {i: candidate for i, candidate in by_id.items() if i not in constraints.excluded}
        self.members: list[Candidate] = []
        self.reasons: list[tuple[Reason, ...]] = []
        self.used: Counter[str] = Counter()
        self.uncovered = (1 << len(self.items)) - 1

    @classmethod
    def start(cls, by_id: dict[int, Candidate], constraints: Constraints) -> _Plan:
        """A plan holding the must-include members (which must be known and not excluded)."""
        plan = cls(by_id, constraints)
        for i in dict.fromkeys(constraints.must_include):
            plan.reasons.append((Reason("required"),) + plan.add(by_id[i]))
        return plan

    @property
    def slots(self) -> int:
        return self.constraints.size - len(self.members)

    def add(self, candidate: Candidate) -> tuple[Reason, ...]:
        """Take a candidate; the requirements it is the first to meet are its reasons."""
        brings = self.masks[candidate.id] & self.uncovered
        reasons = tuple(Reason(kind, code) for bit, (kind, code) in enumerate(self.items) if brings >> bit & 1)
        if candidate.country not in self.used:
            reasons += (Reason("new_country", candidate.country),)
        self.members.append(candidate)
        del self.open[candidate.id]
        self.used[candidate.country] += 1
        self.uncovered &= ~brings
        return reasons

    def pool(self) -> dict[str, Counter[int]]:
        """The open candidates by country, counted by the unmet items each covers."""
        pool: dict[str, Counter[int]] = defaultdict(Counter)
        for i, candidate in self.open.items():
            pool[candidate.country][self.masks[i] & self.uncovered] += 1
        return pool

    def gap(self, brings: int = 0, country: str | None = None) -> _Gap:
        """What is left to meet once a member bringing `brings` from `country` joins (or now, without one)."""
        countries = len(self.used) + (country is not None and country not in self.used)
        return _Gap(
            self.slots - (country is not None),
            self.uncovered & ~brings,
            (1 << len(self.constraints.required_legal_forms)) - 1,
            max(0, self.constraints.min_countries - countries),
        )

    def extendable(self) -> bool:
        return _lookahead(self.pool(), self.used, self.gap(), self.constraints.max_per_country)

    def fitter(self) -> _Fits:
        return _Fits(self)


class _Fits:
    """Whether taking a candidate leaves the constraints satisfiable, cached by what the candidate brings.

    Two candidates of the same country covering the same unmet items leave the same problem behind.
    """

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.pool = plan.pool()
        self.known: dict[tuple[str, int], bool] = {}

    def __call__(self, candidate: Candidate) -> bool:
        plan, cap = self.plan, self.plan.constraints.max_per_country
        if cap is not None and plan.used[candidate.country] >= cap:
            return False
        key = (candidate.country, plan.masks[candidate.id] & plan.uncovered)
        if key not in self.known:
            self.known[key] = self._after(*key)
        return self.known[key]

    def _after(self, country: str, brings: int) -> bool:
        plan = self.plan
        pool = {**self.pool, country: self.pool[country] - Counter({brings: 1})}
        used = plan.used + Counter({country: 1})
        return _lookahead(pool, used, plan.gap(brings, country), plan.constraints.max_per_country)


def _mask(candidate: Candidate, items: list[tuple[str, str]]) -> int:
    have = {("legal_form", candidate.legal_form)} | {("theme", theme) for theme in candidate.themes}
    return sum(1 << bit for bit, item in enumerate(items) if item in have)


class _Country(NamedTuple):
    """A country as the cover search sees it; equal tuples are interchangeable countries."""

    fresh: bool  # not yet represented: a member from it adds a country
    room: int  # members it can still add (cap), at most one per useful mask
    masks: tuple[int, ...]  # the maximal sets of unmet items its open candidates cover


class _Gap(NamedTuple):
    """What the members still to choose must bring."""

    slots: int  # members still to choose
    uncovered: int  # required items not yet covered
    forms: int  # which item bits are legal forms (a member has exactly one)
    countries: int  # distinct countries still needed


def _lookahead(pool: dict[str, Counter[int]], used: Counter[str], gap: _Gap, cap: int | None) -> bool:
    """Whether `gap.slots` more members from `pool` can meet the unmet items, the countries needed and the caps.

    Exact. Fillers never hurt coverage, so it suffices that (a) the caps let `slots` more members in at all
    and (b) some cap-respecting set of at most `slots` members covers the items and, with one extra member
    from each of enough unrepresented countries, reaches the number of countries needed.
    """
    if gap.slots < 0 or (cap is not None and any(n > cap for n in used.values())):
        return False
    room = {country: gap.slots if cap is None else cap - used[country] for country in pool}
    capacity = sum(min(sum(masks.values()), room[country]) for country, masks in pool.items())
    fresh = sum(1 for country, masks in pool.items() if country not in used and room[country] > 0 and masks)
    if capacity < gap.slots or fresh < gap.countries:
        return False
    countries = [
        _Country(country not in used, min(room[country], len(maximal)), maximal)
        for country, masks in pool.items()
        if room[country] > 0 and (maximal := _maximal(frozenset(masks), gap.uncovered))
    ]
    return _coverable(countries, gap)


@lru_cache(maxsize=4096)
def _maximal(masks: frozenset[int], uncovered: int) -> tuple[int, ...]:
    """The distinct non-empty sets of unmet items not contained in another: only those are worth choosing.

    Cached: the look-ahead asks this of the same countries again and again during one build.
    """
    maximal: list[int] = []
    for mask in sorted({mask & uncovered for mask in masks} - {0}, key=lambda mask: (-mask.bit_count(), mask)):
        if all(mask & other != mask for other in maximal):
            maximal.append(mask)
    return tuple(maximal)


def _coverable(countries: list[_Country], gap: _Gap) -> bool:
    """Backtracking over who covers each unmet item: branch on the item with fewest options, bound by slots."""
    themes = gap.uncovered & ~gap.forms
    # At least 1: a theme nobody covers leaves its item without options, which fails the search anyway.
    widest = max([1] + [(mask & themes).bit_count() for country in countries for mask in country.masks])
    failed: set[tuple[int, frozenset[tuple[int, int]]]] = set()

    def fewest(picks: int, left: int, fresh: int) -> int:
        """A lower bound on the final size: a member has one legal form and at most `widest` themes."""
        more_themes = -(-(left & themes).bit_count() // widest)
        return picks + max((left & gap.forms).bit_count(), more_themes, gap.countries - fresh)

    def search(picks: tuple[tuple[int, int], ...], covered: int) -> bool:
        left = gap.uncovered & ~covered
        touched = Counter(i for i, _ in picks)
        fresh = sum(1 for i in touched if countries[i].fresh)
        key = (covered, frozenset(touched.items()))
        if fewest(len(picks), left, fresh) > gap.slots or key in failed:
            return False
        if not left:
            return True
        bit = min(_bits(left), key=lambda b: len(_options(countries, picks, touched, b, left)))
        if any(
            search(picks + (option,), covered | option[1]) for option in _options(countries, picks, touched, bit, left)
        ):
            return True
        failed.add(key)
        return False

    return search((), 0)


def _bits(mask: int) -> Iterator[int]:
    return (1 << b for b in range(mask.bit_length()) if mask >> b & 1)


def _options(
    countries: list[_Country], picks: tuple[tuple[int, int], ...], touched: Counter[int], bit: int, left: int
) -> list[tuple[int, int]]:
    """Who could cover `bit` next; of interchangeable untouched countries only the first is tried."""
    options: list[tuple[int, int]] = []
    seen: set[_Country] = set()
    for i, country in enumerate(countries):
        if touched[i] >= country.room or (not touched[i] and country in seen):
            continue
        if not touched[i]:
            seen.add(country)
        options.extend((i, mask) for mask in country.masks if mask & bit and (i, mask) not in picks)
    return sorted(
        options, key=lambda o: (not (countries[o[0]].fresh and not touched[o[0]]), -(o[1] & left).bit_count())
    )


def _single_problems(by_id: dict[int, Candidate], constraints: Constraints) -> tuple[Problem, ...]:
    """Constraints that fail on their own (with the size and the exclusions)."""
    pool = [candidate for candidate in by_id.values() if candidate.id not in constraints.excluded]
    return (
        *_must_include_problems(by_id, constraints),
        *_pool_problems(pool, constraints),
        *_legal_form_problems(pool, constraints),
        *_theme_problems(pool, constraints),
    )


def _must_include_problems(by_id: dict[int, Candidate], constraints: Constraints) -> list[Problem]:
    required = list(dict.fromkeys(constraints.must_include))
    problems = [Problem("must_include_unknown", {"id": i}) for i in required if i not in by_id]
    problems += [Problem("must_include_excluded", {"id": i}) for i in required if i in constraints.excluded]
    if len(required) > constraints.size:
        problems.append(Problem("must_include_exceeds_size", {"required": len(required), "size": constraints.size}))
    cap = constraints.max_per_country
    countries = Counter(by_id[i].country for i in required if i in by_id)
    problems += [
        Problem("must_include_exceeds_country_cap", {"country": country, "required": count, "cap": cap})
        for country, count in sorted(countries.items())
        if cap is not None and count > cap
    ]
    return problems


def _pool_problems(pool: list[Candidate], constraints: Constraints) -> list[Problem]:
    size, needed, cap = constraints.size, constraints.min_countries, constraints.max_per_country
    problems = []
    if len(pool) < size:
        problems.append(Problem("too_few_candidates", {"needed": size, "available": len(pool)}))
    if needed > size:
        problems.append(Problem("min_countries_above_size", {"needed": needed, "size": size}))
    countries = Counter(candidate.country for candidate in pool)
    if len(countries) < needed:
        problems.append(Problem("too_few_countries", {"needed": needed, "available": len(countries)}))
    capacity = sum(min(count, cap) for count in countries.values()) if cap is not None else len(pool)
    if capacity < size <= len(pool):
        problems.append(Problem("country_cap_too_low", {"needed": size, "available": capacity, "cap": cap}))
    return problems


def _legal_form_problems(pool: list[Candidate], constraints: Constraints) -> list[Problem]:
    present = {candidate.legal_form for candidate in pool}
    required = constraints.required_legal_forms
    problems = [Problem("missing_legal_form", {"legal_form": form}) for form in sorted(required - present)]
    if len(required) > constraints.size:
        problems.append(Problem("legal_forms_above_size", {"needed": len(required), "size": constraints.size}))
    return problems


def _theme_problems(pool: list[Candidate], constraints: Constraints) -> list[Problem]:
    present = frozenset().union(*(candidate.themes for candidate in pool))
    required = constraints.required_themes
    missing = [Problem("missing_theme", {"theme": theme}) for theme in sorted(required - present)]
    if missing or len(required) <= constraints.size:
        return missing
    needed = _fewest_members_covering(pool, sorted(required))
    return (
        [Problem("themes_above_size", {"needed": needed, "size": constraints.size})]
        if needed > constraints.size
        else []
    )


def _fewest_members_covering(pool: list[Candidate], themes: list[str]) -> int:
    """The smallest number of members that together cover every theme (all are known to be present)."""
    items = [("theme", theme) for theme in themes]
    masks = Counter(_mask(candidate, items) for candidate in pool)
    everything = (1 << len(items)) - 1
    maximal = _maximal(frozenset(masks), everything)
    anywhere = [_Country(False, len(maximal), maximal)]
    return next(n for n in range(1, len(items) + 1) if _coverable(anywhere, _Gap(n, everything, 0, 0)))


def _combination_problems(by_id: dict[int, Candidate], constraints: Constraints) -> tuple[Problem, ...]:
    """The smallest sets of constraints that fail together (each holds alone, or it would be a single problem)."""
    active = [name for name, off in RELAXED.items() if getattr(constraints, name) != off]
    levels = (
        [names for names in combinations(active, n) if not _feasible(by_id, _only(constraints, names))]
        for n in range(1, len(active) + 1)
    )
    failing = next(level for level in levels if level)
    return tuple(
        Problem("combination", {"constraints": ",".join(names), "size": constraints.size}) for names in failing
    )


def _only(constraints: Constraints, names: tuple[str, ...]) -> Constraints:
    return replace(constraints, **{name: off for name, off in RELAXED.items() if name not in names})


def _feasible(by_id: dict[int, Candidate], constraints: Constraints) -> bool:
    return _Plan.start(by_id, constraints).extendable()
