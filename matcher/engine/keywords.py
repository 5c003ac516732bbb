"""Keyword relevance (BM25 by bm25s) over organisation texts: the exact-word half of the hybrid search.

The analysis is language-neutral, since texts come in every EU language: case and accents are
folded, words split on letters and digits, and the stopwords bm25s ships for the EU languages it
knows are dropped. No stemming: a stemmer belongs to one language and the corpus has many.

A bm25s index cannot change once built, so a replica is a main index plus a small side index of
the texts that changed since; changed ids are masked out of the main one. When the side index
grows past a share of the main one, the whole index is rebuilt.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache

import bm25s
import numpy as np
from bm25s import stopwords

WORD = re.compile(r"\w+")
STOPWORD_LISTS = (
    "STOPWORDS_DANISH",
    "STOPWORDS_DUTCH",
    "STOPWORDS_EN",
    "STOPWORDS_FRENCH",
    "STOPWORDS_GERMAN",
    "STOPWORDS_ITALIAN",
    "STOPWORDS_PORTUGUESE",
    "STOPWORDS_SPANISH",
    "STOPWORDS_SWEDISH",
)
# Rebuild the main index once the side index holds this share of it (and at least SIDE_MIN texts).
SIDE_SHARE = 0.05
SIDE_MIN = 500


def fold(text: str) -> str:
    """Lower case without accents: "Économie" and "economie" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@cache
def _stopwords() -> frozenset[str]:
    return frozenset(fold(word) for name in STOPWORD_LISTS for word in getattr(stopwords, name))


def words(text: str) -> list[str]:
    """The folded words of a text, as they are matched (stopwords kept: for highlighting)."""
    return WORD.findall(fold(text))


def tokens(text: str) -> list[str]:
    """The words that count for relevance: no stopwords, no single letters."""
    stop = _stopwords()
    return [word for word in words(text) if word not in stop and (len(word) > 1 or word.isdigit())]


class KeywordIndex:
    """An immutable BM25 index over (id, text)."""

    def __init__(self, texts: Mapping[int, str]) -> None:
        self.ids = np.array(sorted(texts), dtype=np.int64)
        self._retriever: bm25s.BM25 | None = None
        if len(self.ids):
            self._retriever = bm25s.BM25()
            self._retriever.index([tokens(texts[int(i)]) for i in self.ids], show_progress=False)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query_tokens: list[str], hidden: set[int]) -> dict[int, float]:
        """BM25 score of every text that holds a query word, except the hidden ids."""
        if self._retriever is None or not query_tokens:
            return {}
        if not self._retriever.get_tokens_ids(query_tokens):
            return {}
        values = self._retriever.get_scores(query_tokens)
        hits = np.flatnonzero(values > 0)
        return {int(self.ids[i]): float(values[i]) for i in hits if int(self.ids[i]) not in hidden}


class KeywordReplica:
    """A main index, the ids changed since it was built, and a side index of their current texts."""

    def __init__(self, texts: Mapping[int, str], watermark: int) -> None:
        self.main = KeywordIndex(texts)
        self.watermark = watermark
        self.changed: set[int] = set()
        self._side_texts: dict[int, str] = {}
        self.side = KeywordIndex({})

    @property
    def needs_rebuild(self) -> bool:
        return len(self._side_texts) > max(SIDE_MIN, SIDE_SHARE * len(self.main))

    def apply(self, changed: Iterable[int], current: Mapping[int, str], watermark: int) -> None:
        """Take in changed organisations: `current` holds the texts of those still published."""
        changed = set(changed)
        if not changed:
            self.watermark = watermark
            return
        self.changed |= changed
        for organisation_id in changed:
            self._side_texts.pop(organisation_id, None)
        self._side_texts.update(current)
        self.side = KeywordIndex(self._side_texts)
        self.watermark = watermark

    def scores(self, query: str) -> dict[int, float]:
        """BM25 scores of the texts holding a query word (side-index scores where a text changed)."""
        query_tokens = tokens(query)
        found = self.main.scores(query_tokens, hidden=self.changed)
        found.update(self.side.scores(query_tokens, hidden=set()))
        return found
