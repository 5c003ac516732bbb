"""Matching: composes the engine (vectors) and the partner database (who may be suggested)."""

from matcher.matching.ranking import Filters, Profile, Result, match, search

__all__ = ["Filters", "Profile", "Result", "match", "search"]
