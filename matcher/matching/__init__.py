"""Matching: composes the engine (vectors, keywords) and the partner database (who may be suggested)."""

from matcher.matching.ranking import Filters, Profile, Result, match
from matcher.matching.search import SearchPage, search, search_page

__all__ = ["Filters", "Profile", "Result", "SearchPage", "match", "search", "search_page"]
