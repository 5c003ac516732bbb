"""The filterable attributes of the indexed organisations, held in memory as numpy columns.

Every match and search starts from the ids that pass the user's filters. Asking the database for
them costs a scan of the organisations table per request (15 ms at 10k, over a second at 1M, more
when a JSON list such as the themes must be decoded). This table answers in a few milliseconds at
1M: one small-integer column per single-valued attribute (country, legal form, ...) and one bitset
per list attribute (themes, languages, kinds of partnership), compared with vectorised numpy.

Rows are appended; a changed or removed organisation's old row is marked dead and the table is
compacted when dead rows pass a quarter, so a change costs no copy of the whole table.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

SCALARS = ("country", "legal_form", "size", "description_language")
LISTS = ("themes", "languages", "partnership_types")
BITS = 64


class _Codes:
    """Values of one attribute as small integers, assigned as they are met."""

    def __init__(self) -> None:
        self.of: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, value: str) -> int:
        if value not in self.of:
            self.of[value] = len(self.values)
            self.values.append(value)
        return self.of[value]

    def known(self, values: Iterable[str]) -> list[int]:
        return [self.of[v] for v in values if v in self.of]


class AttributeTable:
    """Ids with their attributes; `matching(...)` gives the ids that pass a set of filters."""

    def __init__(self) -> None:
        self._size = 0
        self._ids = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self._row: dict[int, int] = {}
        self._codes = {name: _Codes() for name in (*SCALARS, *LISTS)}
        self._scalars = {name: np.zeros(0, dtype=np.int32) for name in SCALARS}
        self._lists = {name: np.zeros((0, 1), dtype=np.uint64) for name in LISTS}

    def __len__(self) -> int:
        return len(self._row)

    @property
    def ids(self) -> np.ndarray:
        return self._ids[: self._size][self._alive[: self._size]]

    def _reserve(self, extra: int) -> None:
        needed = self._size + extra
        if needed <= len(self._ids):
            return
        capacity = max(needed, 2 * len(self._ids), 1024)
        grow = capacity - len(self._ids)
        self._ids = np.concatenate([self._ids, np.zeros(grow, dtype=np.int64)])
        self._alive = np.concatenate([self._alive, np.zeros(grow, dtype=bool)])
        for name in SCALARS:
            self._scalars[name] = np.concatenate([self._scalars[name], np.zeros(grow, dtype=np.int32)])
        for name in LISTS:
            words = self._lists[name].shape[1]
            self._lists[name] = np.concatenate([self._lists[name], np.zeros((grow, words), dtype=np.uint64)])

    def _set_bits(self, name: str, row: int, values: Sequence[str]) -> None:
        for value in values:
            code = self._codes[name].code(value)
            word, bit = divmod(code, BITS)
            if word >= self._lists[name].shape[1]:
                column = self._lists[name]
                self._lists[name] = np.hstack([column, np.zeros((len(column), 1), dtype=np.uint64)])
            self._lists[name][row, word] |= np.uint64(1) << np.uint64(bit)

    def upsert(self, records: Iterable[Mapping[str, object]]) -> None:
        """Add or replace organisations: each record holds its `id` and every attribute."""
        records = list(records)
        self.remove(int(r["id"]) for r in records)  # type: ignore[call-overload]
        self._reserve(len(records))
        for record in records:
            row = self._size
            self._size += 1
            identifier = int(record["id"])  # type: ignore[call-overload]
            self._ids[row], self._alive[row], self._row[identifier] = identifier, True, row
            for name in SCALARS:
                self._scalars[name][row] = self._codes[name].code(str(record.get(name) or ""))
            for name in LISTS:
                self._lists[name][row] = 0
                self._set_bits(name, row, list(record.get(name) or ()))  # type: ignore[call-overload]

    def remove(self, ids: Iterable[int]) -> None:
        for identifier in ids:
            row = self._row.pop(int(identifier), None)
            if row is not None:
                self._alive[row] = False
        if self._size > 1024 and len(self._row) < 0.75 * self._size:
            self._compact()

    def _compact(self) -> None:
        keep = np.flatnonzero(self._alive[: self._size])
        self._ids = self._ids[keep]
        self._alive = np.ones(len(keep), dtype=bool)
        for name in SCALARS:
            self._scalars[name] = self._scalars[name][keep]
        for name in LISTS:
            self._lists[name] = self._lists[name][keep]
        self._size = len(keep)
        self._row = {int(identifier): row for row, identifier in enumerate(self._ids)}

    def records(self, ids: Iterable[int]) -> dict[int, dict[str, object]]:
        """The attributes of those organisations that the table holds (list values in the order
        first met), read column by column: match() asks for a few hundred candidates at a time."""
        held = [(int(i), row) for i in ids if (row := self._row.get(int(i))) is not None]
        if not held:
            return {}
        rows = np.array([row for _, row in held])
        columns: dict[str, list[object]] = {}
        for name in SCALARS:
            values = self._codes[name].values
            columns[name] = [values[code] for code in self._scalars[name][rows].tolist()]
        for name in LISTS:
            values = self._codes[name].values
            bits = np.unpackbits(self._lists[name][rows].view(np.uint8), axis=1, bitorder="little")
            at, codes = np.nonzero(bits)
            bounds = np.searchsorted(at, np.arange(len(rows) + 1)).tolist()
            found = codes.tolist()
            columns[name] = [[values[c] for c in found[start:end]] for start, end in itertools.pairwise(bounds)]
        return {
            identifier: {"id": identifier, **{name: column[n] for name, column in columns.items()}}
            for n, (identifier, _) in enumerate(held)
        }

    def matching(self, wanted: Mapping[str, Sequence[str]], excluded: Mapping[str, str] | None = None) -> np.ndarray:
        """Sorted ids whose value is one of the wanted ones for every attribute given (a list
        attribute: shares one of them), and is not the excluded value."""
        size = self._size
        mask = self._alive[:size].copy()
        for name, values in wanted.items():
            if not values:
                continue
            codes = self._codes[name].known(values)
            if name in SCALARS:
                mask &= np.isin(self._scalars[name][:size], codes)
                continue
            bits = np.zeros(self._lists[name].shape[1], dtype=np.uint64)
            for code in codes:
                word, bit = divmod(code, BITS)
                bits[word] |= np.uint64(1) << np.uint64(bit)
            mask &= (self._lists[name][:size] & bits).any(axis=1)
        for name, value in (excluded or {}).items():
            if value in self._codes[name].of:
                mask &= self._scalars[name][:size] != self._codes[name].of[value]
        found = self._ids[:size][mask]
        # Rows are mostly in id order already (appended as organisations are created): sort only if not.
        return found if len(found) < 2 or bool((found[1:] > found[:-1]).all()) else np.sort(found)
