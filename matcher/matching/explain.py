"""Why a partner was suggested: the parts that matched and what the two share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matcher.partners.vocabulary import PARTNERSHIP_TYPES, language_name, theme_label

# Small, documented boosts added to the semantic score (cosine similarity of language-centred e5 vectors:
# about 0 for unrelated texts, 0.15-0.35 for related ones, docs/quality.md section 3).
THEME_BOOST = 0.02
MAX_THEME_BOOST = 0.06
LANGUAGE_BOOST = 0.02
PARTNERSHIP_BOOST = 0.02

# What each compared pair of texts means, for people reading an explanation.
PART_LABELS = {
    "description": _l("their activity is close to yours"),
    "their_offer": _l("what they offer meets what you seek"),
    "their_need": _l("what you offer meets what they seek"),
    "offers": _l("what they offer matches your search"),
}


# A part other than the best one is named in the reasons when it scores at least this: above 99 % of
# non-relevant pairs and 39 % of hand-judged relevant ones (docs/quality.md section 3).
STRONG_PART = 0.2


@dataclass(frozen=True)
class Wishes:
    """What the asking side shares with a candidate: themes, spoken languages, partnership types."""

    themes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    partnership_types: tuple[str, ...] = ()


@dataclass
class Explanation:
    score: float
    semantic: float
    parts: dict[str, float]
    best_part: str
    shared_themes: list[str] = field(default_factory=list)
    shared_languages: list[str] = field(default_factory=list)
    shared_partnership_types: list[str] = field(default_factory=list)
    boost: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _shared(mine: tuple[str, ...], theirs: list[str]) -> list[str]:
    return [code for code in mine if code in theirs]


class Candidate(Protocol):
    """What an explanation reads of a candidate: an Organisation, or a row of these columns."""

    themes: list[str]
    languages: list[str]
    partnership_types: list[str]


def explain(semantic: float, parts: dict[str, float], candidate: Candidate, wishes: Wishes) -> Explanation:
    """Add the boosts to the semantic score and say what produced it."""
    themes = _shared(wishes.themes, candidate.themes)
    languages = _shared(wishes.languages, candidate.languages)
    partnerships = _shared(wishes.partnership_types, candidate.partnership_types)
    boost = (
        min(MAX_THEME_BOOST, THEME_BOOST * len(themes))
        + (LANGUAGE_BOOST if languages else 0.0)
        + (PARTNERSHIP_BOOST if partnerships else 0.0)
    )
    return Explanation(
        score=round(semantic + boost, 6),
        semantic=round(semantic, 6),
        parts={name: round(value, 6) for name, value in parts.items()},
        best_part=max(parts, key=lambda name: (parts[name], name)),
        shared_themes=themes,
        shared_languages=languages,
        shared_partnership_types=partnerships,
        boost=round(boost, 6),
    )


def reasons(explanation: Explanation) -> list[str]:
    """The explanation in words, in the reader's language: the parts that matched, then what is shared."""
    best = explanation.best_part
    texts = [str(PART_LABELS.get(best, best))]
    texts += [
        str(PART_LABELS.get(part, part))
        for part, value in explanation.parts.items()
        if part != best and value >= STRONG_PART
    ]
    if explanation.shared_themes:
        texts.append(_("shared themes: %(themes)s", themes=", ".join(map(theme_label, explanation.shared_themes))))
    if explanation.shared_languages:
        texts.append(
            _("you both speak %(languages)s", languages=", ".join(map(language_name, explanation.shared_languages)))
        )
    if explanation.shared_partnership_types:
        types = ", ".join(str(PARTNERSHIP_TYPES.get(code, code)) for code in explanation.shared_partnership_types)
        texts.append(_("you both want: %(types)s", types=types))
    return texts
