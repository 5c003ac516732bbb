"""Matching with the real model: cross-lingual, other countries only, published only, explained."""

from __future__ import annotations

from flask import Flask

from matcher.matching import Filters, Profile, match
from matcher.matching.explain import STRONG_PART
from matcher.partners.operations import create_organisation
from matcher.partners.vocabulary import Status
from tests.partner_data import DISTRACTORS, QUERY_FR, SAME_COUNTRY, TARGETS, UNPUBLISHED

PROFILE = Profile(
    description=QUERY_FR["description"],
    country="FR",
    offers=QUERY_FR["offers"],
    seeks=QUERY_FR["seeks"],
    themes=("work_integration",),
)


def _seed() -> dict[str, int]:
    ids = {}
    for record in TARGETS + DISTRACTORS + [SAME_COUNTRY]:
        ids[record["name"]] = create_organisation(record, status=Status.PUBLISHED).id
    ids[UNPUBLISHED["name"]] = create_organisation(UNPUBLISHED, status=Status.PENDING).id
    return ids


def test_french_profile_finds_same_activity_abroad_before_lexical_lookalikes(app: Flask) -> None:
    with app.app_context():
        _seed()
        names = [r.organisation.name for r in match(PROFILE, k=10)]
    targets = {t["name"] for t in TARGETS}
    assert set(names[:3]) == targets, names
    assert set(names[3:]) == {d["name"] for d in DISTRACTORS}


def test_own_country_and_unpublished_never_appear(app: Flask) -> None:
    with app.app_context():
        _seed()
        results = match(PROFILE, k=50)
        assert results
        assert all(r.organisation.country != "FR" for r in results)
        assert all(r.organisation.status == Status.PUBLISHED for r in results)
        assert UNPUBLISHED["name"] not in {r.organisation.name for r in results}


def test_explanation_names_shared_themes_and_parts(app: Flask) -> None:
    with app.app_context():
        _seed()
        best = match(PROFILE, k=1)[0]
    why = best.explanation
    assert why.shared_themes == ["work_integration"]
    assert set(why.parts) <= {"description", "their_offer", "their_need"} and "description" in why.parts
    assert why.best_part in why.parts
    # A same-activity partner scores well above unrelated texts (about 0 once centred).
    assert why.score >= why.semantic > STRONG_PART
    assert why.boost > 0


def test_filters_restrict_results(app: Flask) -> None:
    with app.app_context():
        _seed()
        assert {r.organisation.country for r in match(PROFILE, filters=Filters(countries=("IT", "PL")))} == {"IT", "PL"}
        coops = match(PROFILE, filters=Filters(legal_forms=("cooperative",)))
        assert coops and all(r.organisation.legal_form == "cooperative" for r in coops)
        culture = match(PROFILE, filters=Filters(themes=("culture",)))
        assert [r.organisation.name for r in culture] == ["Atelier Théâtre Insertion"]
        assert match(PROFILE, filters=Filters(countries=("FR",))) == []


def test_match_is_deterministic(app: Flask) -> None:
    with app.app_context():
        _seed()
        first = [(r.organisation.id, r.explanation.score) for r in match(PROFILE, k=10)]
        second = [(r.organisation.id, r.explanation.score) for r in match(PROFILE, k=10)]
    assert first == second


def test_per_country_cap_spreads_results_over_countries(app: Flask) -> None:
    with app.app_context():
        _seed()
        create_organisation({**TARGETS[1], "name": "Seconda Ciclofficina"}, status=Status.PUBLISHED)
        uncapped = [r.organisation.country for r in match(PROFILE, k=3)]
        capped = match(PROFILE, k=3, per_country=1)
    assert uncapped.count("IT") == 2
    assert sorted(r.organisation.country for r in capped) == ["DE", "IT", "PL"]
    scores = [r.explanation.score for r in capped]
    assert scores == sorted(scores, reverse=True)
