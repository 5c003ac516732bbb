"""An immutable set of organisation ids over a numpy array.

What the filters allow is usually most of the catalogue: at 1M organisations, a Python set of its
ids took longer to build (about 100 ms) than the search it restricts. Membership is read from a
boolean mask instead, built in a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet

import numpy as np


class IdSet(AbstractSet[int]):
    """Non-negative ids held in an int64 array; set operations with it give plain Python sets."""

    def __init__(self, ids: np.ndarray) -> None:
        self.array = np.asarray(ids, dtype=np.int64)
        self._mask: np.ndarray | None = None

    @classmethod
    def _from_iterable(cls, values: Iterable[int]) -> set[int]:
        return set(values)

    @property
    def mask(self) -> np.ndarray:
        """One flag per id from 0 to the largest held."""
        if self._mask is None:
            self._mask = np.zeros(int(self.array.max()) + 1 if len(self.array) else 0, dtype=bool)
            self._mask[self.array] = True
        return self._mask

    def __len__(self) -> int:
        return len(self.array)

    def __iter__(self) -> Iterator[int]:
        return iter(self.array.tolist())

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int | np.integer):
            return False
        mask = self.mask
        return 0 <= value < len(mask) and bool(mask[value])
