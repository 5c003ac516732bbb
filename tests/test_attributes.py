"""The in-memory attribute table gives exactly the ids a filter over the rows would give."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.engine.attributes import LISTS, SCALARS, AttributeTable

VALUES = {
    "country": ["DE", "FR", "IT", "PL"],
    "legal_form": ["association", "cooperative", "other"],
    "size": ["", "micro", "large"],
    "description_language": ["de", "fr", "it"],
    "themes": ["energy", "youth", "culture", "health"],
    # more codes than one 64-bit word holds
    "languages": [f"l{n}" for n in range(70)],
    "partnership_types": ["trade", "mobility"],
}


def record(identifier: int) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {
            "id": st.just(identifier),
            **{name: st.sampled_from(VALUES[name]) for name in SCALARS},
            **{name: st.lists(st.sampled_from(VALUES[name]), max_size=4, unique=True) for name in LISTS},
        }
    )


rows = st.lists(st.integers(1, 60), unique=True, max_size=40).flatmap(
    lambda ids: st.tuples(*(record(i) for i in ids)) if ids else st.just(())
)
wanted = st.fixed_dictionaries({name: st.lists(st.sampled_from(VALUES[name]), max_size=3) for name in VALUES})


def passes(row: dict[str, object], want: dict[str, list[str]], excluded: str) -> bool:
    if excluded and row["country"] == excluded:
        return False
    for name, values in want.items():
        if values and (set(values).isdisjoint(row[name]) if name in LISTS else row[name] not in values):
            return False
    return True


@settings(max_examples=200, deadline=None)
@given(first=rows, second=rows, removed=st.lists(st.integers(1, 60)), want=wanted, excluded=st.sampled_from(["", "DE"]))
def test_matching_equals_a_filter_over_the_current_rows(
    first: tuple[dict[str, object], ...],
    second: tuple[dict[str, object], ...],
    removed: list[int],
    want: dict[str, list[str]],
    excluded: str,
) -> None:
    table = AttributeTable()
    table.upsert(first)
    table.upsert(second)  # replaces the rows of the same ids
    table.remove(removed)
    current = {int(r["id"]): r for r in (*first, *second) if int(r["id"]) not in removed}  # type: ignore[call-overload]
    expected = sorted(i for i, row in current.items() if passes(row, want, excluded))
    got = table.matching(want, {"country": excluded} if excluded else None)
    assert got.tolist() == expected
    assert len(table) == len(current) and sorted(table.ids.tolist()) == sorted(current)
    records = table.records(range(1, 61))
    assert set(records) == set(current)
    for identifier, stored in records.items():
        row = current[identifier]
        assert {name: stored[name] for name in SCALARS} == {name: row[name] for name in SCALARS}
        assert all(sorted(stored[name]) == sorted(row[name]) for name in LISTS)  # type: ignore[call-overload]


def test_many_changes_compact_the_table_and_keep_the_answers() -> None:
    table = AttributeTable()
    base = {"country": "DE", "legal_form": "other", "size": "", "description_language": "de"}
    table.upsert(
        {"id": i, **base, "themes": ["energy"] if i % 2 else [], "languages": [], "partnership_types": []}
        for i in range(5000)
    )
    table.remove(range(0, 4000))
    assert len(table) == 1000
    assert table.matching({"themes": ["energy"]}).tolist() == list(range(4001, 5000, 2))
