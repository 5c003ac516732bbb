"""Why a partner was suggested: the parts that matched and what the two share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from flask_babel import lazy_gettext as _l

from matcher.partners.models import Organisation

# Small, documented boosts added to the semantic score (cosine similarity, about 0.7 to 0.95 for e5).
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


def explain(semantic: float, parts: dict[str, float], candidate: Organisation, wishes: Wishes) -> Explanation:
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
