"""The consortium builder: constraints always hold, infeasibility only when brute force agrees, swaps, reasons."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.matching.consortium import (
    Candidate,
    Consortium,
    Constraints,
    Problem,
    Reason,
    build,
    swap,
)

COUNTRIES = ["DE", "FR", "IT", "ES"]
FORMS = ["cooperative", "association", "foundation"]
THEMES = ["care", "energy", "food", "housing"]
# A few unit vectors, two of them nearly identical, so the diversity term has something to do.
VECTORS = [None, np.array([1.0, 0.0]), np.array([0.995, 0.0998]), np.array([0.0, 1.0]), np.array([0.6, 0.8])]
KNOWN_PROBLEMS = {
    "too_few_candidates",
    "too_few_countries",
    "min_countries_above_size",
    "country_cap_too_low",
    "missing_legal_form",
    "legal_forms_above_size",
    "missing_theme",
    "themes_above_size",
    "must_include_unknown",
    "must_include_excluded",
    "must_include_exceeds_size",
    "must_include_exceeds_country_cap",
    "combination",
}
REASONS = {"required", "relevance", "new_country", "legal_form", "theme", "diverse"}
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def candidate(
    id: int, country: str, form: str = "association", themes: str = "", relevance: float = 0.8, vector=None
) -> Candidate:
    return Candidate(id, country, form, frozenset(themes.split()), relevance, vector)


@st.composite
def pools(draw: st.DrawFn) -> list[Candidate]:
    return [
        Candidate(
            i,
            draw(st.sampled_from(COUNTRIES)),
            draw(st.sampled_from(FORMS)),
            frozenset(draw(st.sets(st.sampled_from(THEMES), max_size=2))),
            draw(st.integers(70, 95)) / 100,
            draw(st.sampled_from(VECTORS)),
        )
        for i in range(draw(st.integers(0, 10)))
    ]


@st.composite
def constraints_for(draw: st.DrawFn, pool: list[Candidate]) -> Constraints:
    ids = st.integers(0, len(pool))  # len(pool) is an unknown id
    return Constraints(
        size=draw(st.integers(1, 5)),
        min_countries=draw(st.integers(1, 4)),
        max_per_country=draw(st.none() | st.integers(1, 3)),
        required_legal_forms=frozenset(draw(st.sets(st.sampled_from(FORMS), max_size=2))),
        required_themes=frozenset(draw(st.sets(st.sampled_from(THEMES), max_size=3))),
        must_include=tuple(draw(st.lists(ids, max_size=2, unique=True))),
        excluded=frozenset(draw(st.sets(ids, max_size=3))),
    )


@st.composite
def problems(draw: st.DrawFn) -> tuple[list[Candidate], Constraints]:
    pool = draw(pools())
    return pool, draw(constraints_for(pool))


def satisfies(members: list[Candidate], constraints: Constraints) -> bool:
    """Every constraint, checked directly on a proposed set of members."""
    countries = [m.country for m in members]
    ids = {m.id for m in members}
    cap = constraints.max_per_country
    return (
        len(members) == constraints.size
        and len(ids) == len(members)
        and len(set(countries)) >= constraints.min_countries
        and (cap is None or all(countries.count(c) <= cap for c in countries))
        and constraints.required_legal_forms <= {m.legal_form for m in members}
        and constraints.required_themes <= frozenset().union(*(m.themes for m in members))
        and set(constraints.must_include) <= ids
        and not ids & constraints.excluded
    )


def exists(pool: list[Candidate], constraints: Constraints) -> bool:
    return any(satisfies(list(chosen), constraints) for chosen in combinations(pool, constraints.size))


def chosen(consortium: Consortium) -> list[Candidate]:
    return [member.candidate for member in consortium.members]


def codes(consortium: Consortium) -> list[str]:
    return [problem.code for problem in consortium.problems]


@FAST
@given(problems(), st.sampled_from([0.0, 0.3, 1.0]))
def test_build_meets_every_constraint_and_fails_only_when_brute_force_does(problem, diversity) -> None:
    pool, constraints = problem
    result = build(pool, constraints, diversity)
    assert result.feasible == exists(pool, constraints)
    if result.feasible:
        assert satisfies(chosen(result), constraints)
        assert [m.rank for m in result.members] == list(range(1, constraints.size + 1))
        required = list(dict.fromkeys(constraints.must_include))
        assert [m.candidate.id for m in result.members[: len(required)]] == required
        assert {r.code for m in result.members for r in m.reasons} <= REASONS
    else:
        assert result.members == ()
        assert result.problems and set(codes(result)) <= KNOWN_PROBLEMS
        combined = [p.values["constraints"] for p in result.problems if p.code == "combination"]
        assert all("," in str(names) for names in combined)  # a single failing constraint has its own code


@FAST
@given(problems(), st.integers(0, 4))
def test_swap_keeps_the_others_and_brings_the_best_candidate_that_fits(problem, position) -> None:
    pool, constraints = problem
    before = build(pool, constraints, diversity=0)
    if not before.feasible:
        return
    gone = before.members[position % len(before.members)]
    others = [m.candidate for m in before.members if m is not gone]
    after_constraints = replace(constraints, excluded=constraints.excluded | {gone.candidate.id})
    fitting = [c for c in pool if c not in chosen(before) and satisfies([*others, c], after_constraints)]
    after = swap(pool, constraints, before, gone.candidate.id, diversity=0)
    assert after.feasible == bool(fitting)
    if not fitting:
        assert after.members == ()
        return
    best = min(fitting, key=lambda c: (-c.relevance, c.id))
    assert [m for m in after.members if m.rank != gone.rank] == [m for m in before.members if m is not gone]
    newcomer = next(m for m in after.members if m.rank == gone.rank)
    assert newcomer.candidate == best
    assert gone.candidate not in chosen(after)
    assert satisfies(chosen(after), after_constraints)


def test_swap_of_a_non_member_is_an_error() -> None:
    pool = [candidate(1, "DE"), candidate(2, "FR")]
    with pytest.raises(ValueError):
        swap(pool, Constraints(size=1), build(pool, Constraints(size=1)), 2)


def test_swap_uses_the_diversity_term_for_the_newcomer() -> None:
    lead = candidate(1, "FR", relevance=0.95, vector=np.array([1.0, 0.0]))
    twin = candidate(2, "DE", relevance=0.94, vector=np.array([0.999, 0.0447]))
    other = candidate(3, "IT", relevance=0.90, vector=np.array([0.6, 0.8]))
    swapped_out = candidate(4, "ES", relevance=0.92, vector=np.array([0.0, 1.0]))
    pool = [lead, twin, other, swapped_out]
    constraints = Constraints(size=2, must_include=(1,))
    before = build(pool, constraints, diversity=0.3)
    assert chosen(before) == [lead, swapped_out]
    assert chosen(swap(pool, constraints, before, 4, diversity=0.3)) == [lead, other]
    assert chosen(swap(pool, constraints, before, 4, diversity=0)) == [lead, twin]


def test_reasons_say_why_each_member_holds_its_place() -> None:
    pool = [
        candidate(1, "FR", "association", relevance=0.80),
        candidate(2, "DE", "association", "care", relevance=0.95),
        candidate(3, "DE", "cooperative", relevance=0.70),
        candidate(4, "IT", "association", "energy", relevance=0.75),
    ]
    constraints = Constraints(
        size=4,
        min_countries=3,
        required_legal_forms=frozenset({"cooperative"}),
        required_themes=frozenset({"care", "energy"}),
        must_include=(1,),
    )
    members = {m.candidate.id: m for m in build(pool, constraints).members}
    assert members[1].rank == 1
    assert members[1].reasons == (Reason("required"), Reason("new_country", "FR"))
    assert members[2].reasons[:2] == (Reason("theme", "care"), Reason("new_country", "DE"))
    assert members[2].reasons[2] == Reason("relevance", 0.95)
    assert members[3].reasons[0] == Reason("legal_form", "cooperative")
    assert Reason("new_country", "DE") not in members[3].reasons
    assert members[4].reasons[:2] == (Reason("theme", "energy"), Reason("new_country", "IT"))


def test_diversity_prefers_a_different_candidate_to_a_near_twin() -> None:
    top = candidate(1, "DE", relevance=0.95, vector=np.array([1.0, 0.0]))
    twin = candidate(2, "FR", relevance=0.94, vector=np.array([0.999, 0.0447]))
    different = candidate(3, "IT", relevance=0.90, vector=np.array([0.0, 1.0]))
    pool = [top, twin, different]
    diverse = build(pool, Constraints(size=2), diversity=0.3)
    assert chosen(diverse) == [top, different]
    assert diverse.members[1].reasons[-1] == Reason("diverse", 0.0)
    by_relevance = build(pool, Constraints(size=2), diversity=0)
    assert chosen(by_relevance) == [top, twin]
    assert all(reason.code != "diverse" for m in by_relevance.members for reason in m.reasons)


def test_candidates_without_vectors_are_ranked_by_relevance() -> None:
    pool = [candidate(1, "DE", relevance=0.9), candidate(2, "FR", relevance=0.8), candidate(3, "IT", relevance=0.85)]
    assert [c.id for c in chosen(build(pool, Constraints(size=3)))] == [1, 3, 2]


def test_look_ahead_keeps_room_for_the_requirements() -> None:
    """The most relevant candidates are all German: a greedy without look-ahead would run out of places."""
    pool = [candidate(i, "DE", relevance=0.95 - i / 100) for i in range(5)] + [
        candidate(10, "FR", relevance=0.71),
        candidate(11, "IT", "cooperative", relevance=0.70),
    ]
    constraints = Constraints(size=3, min_countries=3, required_legal_forms=frozenset({"cooperative"}))
    assert sorted(c.id for c in chosen(build(pool, constraints))) == [0, 10, 11]


PROBLEM_CASES = [
    (
        [candidate(1, "DE"), candidate(2, "FR")],
        Constraints(size=3),
        Problem("too_few_candidates", {"needed": 3, "available": 2}),
    ),
    (
        [candidate(i, c) for i, c in enumerate(["DE", "FR", "IT", "DE"])],
        Constraints(size=4, min_countries=4),
        Problem("too_few_countries", {"needed": 4, "available": 3}),
    ),
    (
        [candidate(i, c) for i, c in enumerate(["DE", "FR", "IT"])],
        Constraints(size=2, min_countries=3),
        Problem("min_countries_above_size", {"needed": 3, "size": 2}),
    ),
    (
        [candidate(i, c) for i, c in enumerate(["DE", "DE", "DE", "FR", "FR"])],
        Constraints(size=4, max_per_country=1),
        Problem("country_cap_too_low", {"needed": 4, "available": 2, "cap": 1}),
    ),
    (
        [candidate(1, "DE"), candidate(2, "FR", "cooperative")],
        Constraints(size=2, required_legal_forms=frozenset({"mutual", "cooperative"})),
        Problem("missing_legal_form", {"legal_form": "mutual"}),
    ),
    (
        [candidate(1, "DE"), candidate(2, "FR", "cooperative")],
        Constraints(size=1, required_legal_forms=frozenset({"association", "cooperative"})),
        Problem("legal_forms_above_size", {"needed": 2, "size": 1}),
    ),
    (
        [candidate(1, "DE", themes="care")],
        Constraints(size=1, required_themes=frozenset({"care", "energy"})),
        Problem("missing_theme", {"theme": "energy"}),
    ),
    (
        [candidate(1, "DE", themes="care"), candidate(2, "FR", themes="energy"), candidate(3, "IT", themes="food")],
        Constraints(size=2, required_themes=frozenset({"care", "energy", "food"})),
        Problem("themes_above_size", {"needed": 3, "size": 2}),
    ),
    ([candidate(1, "DE")], Constraints(size=1, must_include=(99,)), Problem("must_include_unknown", {"id": 99})),
    (
        [candidate(1, "DE"), candidate(2, "FR")],
        Constraints(size=1, must_include=(1,), excluded=frozenset({1})),
        Problem("must_include_excluded", {"id": 1}),
    ),
    (
        [candidate(i, "DE") for i in range(3)],
        Constraints(size=2, must_include=(0, 1, 2)),
        Problem("must_include_exceeds_size", {"required": 3, "size": 2}),
    ),
    (
        [candidate(1, "FR"), candidate(2, "FR"), candidate(3, "DE")],
        Constraints(size=3, max_per_country=1, must_include=(1, 2)),
        Problem("must_include_exceeds_country_cap", {"country": "FR", "required": 2, "cap": 1}),
    ),
    (
        [
            candidate(1, "DE", "cooperative", "care"),
            candidate(2, "DE", themes="energy"),
            candidate(3, "FR", themes="care"),
        ],
        Constraints(
            size=2,
            min_countries=2,
            required_legal_forms=frozenset({"cooperative"}),
            required_themes=frozenset({"energy"}),
        ),
        Problem("combination", {"constraints": "min_countries,required_legal_forms,required_themes", "size": 2}),
    ),
    (
        [candidate(1, "DE"), candidate(2, "FR", "cooperative")],
        Constraints(size=1, must_include=(1,), required_legal_forms=frozenset({"cooperative"})),
        Problem("combination", {"constraints": "must_include,required_legal_forms", "size": 1}),
    ),
]


@pytest.mark.parametrize(("pool", "constraints", "problem"), PROBLEM_CASES, ids=lambda x: getattr(x, "code", ""))
def test_problems_name_the_failing_constraint_with_its_numbers(pool, constraints, problem) -> None:
    result = build(pool, constraints)
    assert result.members == () and not result.feasible
    assert problem in result.problems
    assert not exists(pool, constraints)


def test_the_combination_is_reported_only_when_every_constraint_holds_alone() -> None:
    pool, constraints, _ = PROBLEM_CASES[-2]
    assert codes(build(pool, constraints)) == ["combination"]
    for relaxed in ({"min_countries": 1}, {"required_legal_forms": frozenset()}, {"required_themes": frozenset()}):
        assert build(pool, replace(constraints, **relaxed)).feasible


def test_constraints_reject_an_empty_consortium_and_a_zero_cap() -> None:
    with pytest.raises(ValueError):
        Constraints(size=0)
    with pytest.raises(ValueError):
        Constraints(size=2, max_per_country=0)


def test_a_thousand_candidates_do_not_blow_up() -> None:
    rng = np.random.default_rng(7)
    countries = ["AT", "BE", "BG", "CZ", "DE", "DK", "ES", "FI", "FR", "GR", "IT", "NL", "PL", "PT", "SE"]
    pool = []
    for i in range(1000):
        vector = rng.normal(size=16)
        pool.append(
            Candidate(
                i,
                str(rng.choice(countries)),
                str(rng.choice(FORMS)),
                frozenset(str(t) for t in rng.choice(THEMES, size=2, replace=False)),
                float(rng.uniform(0.7, 0.95)),
                vector / np.linalg.norm(vector),
            )
        )
    constraints = Constraints(
        size=10,
        min_countries=5,
        max_per_country=3,
        required_legal_forms=frozenset({"cooperative", "foundation"}),
        required_themes=frozenset({"care", "energy"}),
    )
    result = build(pool, constraints)
    assert result.feasible and satisfies(chosen(result), constraints)
