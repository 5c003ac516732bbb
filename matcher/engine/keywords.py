"""Keyword relevance (BM25 by bm25s) over organisation texts: the exact-word half of the hybrid search.

The analysis is language-neutral, since texts come in every EU language: case and accents are
folded, words split on letters and digits, and the stopwords bm25s ships for the EU languages it
knows are dropped. No stemming: a stemmer belongs to one language and the corpus has many.

A bm25s index cannot change once built, so a replica is a main index plus a small side index of
the texts that changed since; changed ids are masked out of the main one. When the side index
grows past a share of the main one, the whole index is rebuilt.

The main index is saved as a snapshot (bm25s's own files, with the ids and the change it was built
at) and memory-mapped by every process that loads it: at 1M organisations, tokenising every text
took minutes of each worker's start-up; the snapshot loads in seconds and its pages are shared.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import bm25s
import numpy as np
from bm25s import stopwords

log = logging.getLogger(__name__)

WORD = re.compile(r"\w+")
# Bump when tokens() changes: snapshots of another format are rebuilt.
SNAPSHOT_FORMAT = 1
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

    def save(self, folder: Path, watermark: int) -> None:
        """Write into a new folder, then swap it in: a reader finds the old snapshot, the new one, or
        (for an instant) none, which it rebuilds; never a mix."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        fresh = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
        old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir()
        if self._retriever is not None:
            self._retriever.save(str(fresh), show_progress=False)
        np.save(fresh / "ids.npy", self.ids)
        (fresh / "replica.json").write_text(json.dumps({"format": SNAPSHOT_FORMAT, "watermark": watermark}))
        if folder.exists():
            folder.rename(old)
        try:
            fresh.rename(folder)
        except OSError:  # another process swapped its own in meanwhile: either is complete
            shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> tuple[KeywordIndex, int] | None:
        """The snapshot in folder with the change it was built at; None when absent or unreadable."""
        try:
            meta = json.loads((folder / "replica.json").read_text())
            if meta["format"] != SNAPSHOT_FORMAT:
                return None
            loaded = cls({})
            loaded.ids = np.load(folder / "ids.npy")
            if len(loaded.ids):
                loaded._retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        except (OSError, ValueError, KeyError) as error:
            log.warning("keyword snapshot %s unusable (%s): rebuilding", folder, error)
            return None
        return loaded, int(meta["watermark"])

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

    def __init__(self, main: KeywordIndex, watermark: int) -> None:
        self.main = main
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
