"""Keyword relevance (BM25 by bm25s) over organisation texts: the exact-word half of the hybrid search.

The analysis is language-neutral, since texts come in every EU language: case and accents are
folded, words split on letters and digits, and the stopwords bm25s ships for the EU languages it
knows are dropped. No stemming: a stemmer belongs to one language and the corpus has many.

A bm25s index cannot change once built, so a replica is a main index plus a small side index of
the texts that changed since; changed ids are masked out of the main one. When the side index
grows past a share of the main one, the whole index is rebuilt.

The main index is saved as a snapshot (bm25s's own files and the ids, in a folder named by a
pointer file that also holds the change it was built at) and memory-mapped by every process that
loads it: at 1M organisations, tokenising every text
took minutes of each worker's start-up; the snapshot loads in seconds and its pages are shared.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import unicodedata
import uuid
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
# A snapshot folder the pointer left this long ago is removed at the next save.
STALE_SNAPSHOT_SECONDS = 300
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

    def save(self, pointer: Path, watermark: int) -> None:
        """Write a new snapshot folder beside the pointer file, then replace the pointer: a reader
        follows it to a folder that never changes once written. Folders the pointer left a while
        ago are removed (one being read stays readable: its files are memory-mapped)."""
        pointer.parent.mkdir(parents=True, exist_ok=True)
        written = pointer.with_name(f".{pointer.stem}.{uuid.uuid4().hex}")
        written.mkdir()
        if self._retriever is not None:
            self._retriever.save(str(written), show_progress=False)
        np.save(written / "ids.npy", self.ids)
        meta = {"format": SNAPSHOT_FORMAT, "watermark": watermark, "folder": written.name}
        staged = written.with_name(f"{written.name}.json")
        staged.write_text(json.dumps(meta))
        os.replace(staged, pointer)
        for old in pointer.parent.glob(f".{pointer.stem}.*"):
            if old != written and old.is_dir() and time.time() - old.stat().st_mtime > STALE_SNAPSHOT_SECONDS:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, pointer: Path) -> tuple[KeywordIndex, int] | None:
        """The snapshot the pointer names, with the change it was built at; None when there is none
        or it cannot be read."""
        if not pointer.is_file():
            return None
        try:
            meta = json.loads(pointer.read_text())
            if meta["format"] != SNAPSHOT_FORMAT:
                return None
            folder = pointer.with_name(meta["folder"])
            loaded = cls({})
            loaded.ids = np.load(folder / "ids.npy")
            if len(loaded.ids):
                loaded._retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        except (OSError, ValueError, KeyError) as error:
            log.warning("keyword snapshot %s unusable (%s): rebuilding", pointer, error)
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
