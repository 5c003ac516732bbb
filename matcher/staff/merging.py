"""Merging two records of one organisation: staff choose each field, the other record's requests
follow the kept one, and the other record is erased (the index follows)."""

from __future__ import annotations

from collections.abc import Iterable

from matcher.partners import audit
from matcher.partners.models import Organisation
from matcher.partners.operations import delete_organisation, update_organisation

# Fields staff choose between when merging (the private ones included: staff see them).
MERGE_FIELDS = tuple(name for name in Organisation.EDITABLE_FIELDS if name != "source_reference")


def differing_fields(first: Organisation, second: Organisation) -> list[str]:
    return [name for name in MERGE_FIELDS if getattr(first, name) != getattr(second, name)]


def merge(keep: Organisation, other: Organisation, take_from_other: Iterable[str], actor: str) -> Organisation:
    """Keep one record with the chosen values of the other; move its introduction requests; erase it."""
    values = {name: getattr(other, name) for name in take_from_other if name in MERGE_FIELDS}
    for request in list(other.introductions_asked):
        request.requester = keep
    for request in list(other.introductions_received):
        request.target = keep
    audit.record(keep, "merged", actor, note=f"#{other.id} {other.name}")
    update_organisation(keep, values, actor=actor)
    delete_organisation(other)
    return keep
