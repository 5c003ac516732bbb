"""The passage of a description that answers a search, with the query's words marked.

A sentence holding query words wins (most distinct words first); across languages, where no word
is shared, the sentence closest in meaning to the query is chosen instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from matcher.engine.keywords import WORD, fold, tokens
from matcher.partners.indexing import index_service
from matcher.partners.models import Organisation

SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
MAX_SENTENCES = 8
MAX_CHARS = 400


@dataclass(frozen=True)
class Passage:
    """Pieces of one sentence: (text, True) where the piece is a query word."""

    pieces: tuple[tuple[str, bool], ...]
    shortened: bool


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()][:MAX_SENTENCES]


def _marked(sentence: str, wanted: set[str]) -> Passage:
    shortened = len(sentence) > MAX_CHARS
    sentence = sentence[:MAX_CHARS]
    pieces: list[tuple[str, bool]] = []
    position = 0
    for word in WORD.finditer(sentence):
        if fold(word.group()) in wanted:
            pieces += [(sentence[position : word.start()], False), (word.group(), True)]
            position = word.end()
    pieces.append((sentence[position:], False))
    return Passage(tuple(piece for piece in pieces if piece[0]), shortened)


def passages(query: str, organisations: list[Organisation]) -> dict[int, Passage]:
    """The best passage of each organisation's description for this query."""
    wanted = set(tokens(query))
    chosen: dict[int, str] = {}
    by_meaning: dict[int, list[str]] = {}
    for organisation in organisations:
        sentences = _sentences(organisation.description) or [organisation.description]
        hits = [len(wanted & {fold(w) for w in WORD.findall(s)}) for s in sentences]
        if max(hits) > 0:
            chosen[organisation.id] = sentences[hits.index(max(hits))]
        else:
            by_meaning[organisation.id] = sentences
    if by_meaning:
        service = index_service()
        question = service.query_vectors([query])[0]
        every = [s for sentences in by_meaning.values() for s in sentences]
        closeness = dict(zip(every, service.embedder.encode(every, "passage") @ question, strict=True))
        for organisation_id, sentences in by_meaning.items():
            chosen[organisation_id] = max(sentences, key=lambda s: closeness[s])
    return {organisation_id: _marked(sentence, wanted) for organisation_id, sentence in chosen.items()}
