"""Offline language detection (lingua), restricted to the EU's official languages."""

from __future__ import annotations

from functools import cache

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

EU_LANGUAGES: tuple[str, ...] = (
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fi",
    "fr",
    "ga",
    "hr",
    "hu",
    "it",
    "lt",
    "lv",
    "mt",
    "nl",
    "pl",
    "pt",
    "ro",
    "sk",
    "sl",
    "sv",
)

# Below this confidence the text is too short or too mixed to say.
MIN_CONFIDENCE = 0.25


@cache
def _detector() -> LanguageDetector:
    """Every language model loaded up front (about 0.7 GB, 4 s): loaded lazily, a query in a
    language not seen yet waited seconds for its models; preloaded, detection takes milliseconds."""
    codes = [getattr(IsoCode639_1, code.upper()) for code in EU_LANGUAGES if hasattr(IsoCode639_1, code.upper())]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_preloaded_language_models().build()


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "" when it cannot be told.

    Maltese is not among lingua's languages, so Maltese text comes back as "" or a neighbour.
    """
    text = text.strip()
    if not text:
        return ""
    confidences = _detector().compute_language_confidence_values(text)
    if not confidences or confidences[0].value < MIN_CONFIDENCE:
        return ""
    return confidences[0].language.iso_code_639_1.name.lower()
