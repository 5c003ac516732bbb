"""IdSet answers like the Python set of the same ids (it stands in for one in every search)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matcher.engine.id_set import IdSet

ids = st.lists(st.integers(min_value=0, max_value=5000), max_size=300)


@given(held=ids, asked=ids)
def test_an_id_set_behaves_like_the_set_of_its_ids(held: list[int], asked: list[int]) -> None:
    expected = set(held)
    id_set = IdSet(np.array(sorted(expected), dtype=np.int64))
    assert len(id_set) == len(expected) and set(id_set) == expected
    for value in [*asked, -1, 10**9, "7", None]:
        assert (value in id_set) == (value in expected)
    assert set(asked) & id_set == set(asked) & expected
    assert id_set - set(asked) == expected - set(asked)
