"""Create, update, change status, delete: one transaction each, then the index follows.

Routes, importers and CLI commands call these functions, never the session or the index
directly, so there is exactly one path from a change to the index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import select

from matcher.engine.embedding import to_bytes
from matcher.engine.language import detect_language
from matcher.extensions import db
from matcher.partners import access, audit, vector_cache
from matcher.partners.duplicates import flag_duplicates
from matcher.partners.indexing import FIELDS, index_service
from matcher.partners.models import Change, Embedding, Organisation, utcnow
from matcher.partners.validation import validate_organisation
from matcher.partners.vocabulary import Source, Status

EMBED_CHUNK = 256
# The actor recorded in the audit trail for what an enterprise does through its private link.
SELF = "self"


class InvalidOrganisation(ValueError):
    """Raised with the per-field messages when data does not validate."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def _record_changes(organisation_ids: Iterable[int]) -> None:
    db.session.add_all(Change(organisation_id=i) for i in organisation_ids)


def _commit_and_sync(organisation_ids: Iterable[int]) -> None:
    db.session.flush()
    _record_changes(organisation_ids)
    db.session.commit()
    index_service().sync()


def embed(
    organisations: Sequence[Organisation], progress: Callable[[int], None] | None = None, resumable: bool = False
) -> None:
    """Compute the passage vectors of the organisations' texts (in chunks, for long imports).

    ``resumable``: each chunk's vectors are also kept in the vector cache at once, and vectors kept
    there by an earlier, interrupted run are taken instead of computed again (imports)."""
    service = index_service()
    model_id = service.embedder.model_id
    for start in range(0, len(organisations), EMBED_CHUNK):
        chunk = organisations[start : start + EMBED_CHUNK]
        vectors = {name: _passage_vectors([getattr(o, name) for o in chunk], resumable) for name in FIELDS}
        for organisation in chunk:
            if organisation.embedding is None:
                organisation.embedding = Embedding()
            organisation.embedding.model_id = model_id
            for name in FIELDS:
                text = getattr(organisation, name)
                setattr(organisation.embedding, name, to_bytes(vectors[name][text]) if text else None)
        if progress:
            progress(len(chunk))


def _passage_vectors(texts: Sequence[str], resumable: bool) -> dict[str, np.ndarray]:
    """Vector by text, for the non-empty texts."""
    embedder = index_service().embedder
    wanted = [t for t in dict.fromkeys(texts) if t]
    found = vector_cache.cached(embedder.model_id, "passage", wanted) if resumable else {}
    missing = [t for t in wanted if t not in found]
    computed = dict(zip(missing, embedder.encode(missing, "passage"), strict=True))
    if resumable:
        vector_cache.keep(embedder.model_id, "passage", computed)
    return found | computed


def build(values: Mapping[str, Any], source: str, status: str, is_example: bool = False) -> Organisation:
    """A new, unsaved organisation from validated values."""
    organisation = Organisation(**values, source=source, status=status, is_example=is_example)
    organisation.description_language = values.get("description_language") or detect_language(values["description"])
    return organisation


def validated(data: Mapping[str, object], require_contact: bool = False) -> dict[str, Any]:
    result = validate_organisation(data, require_contact=require_contact)
    if not result.ok:
        raise InvalidOrganisation(result.errors)
    return result.values


def create_organisation(
    data: Mapping[str, object],
    source: str = Source.STAFF,
    status: str = Status.PENDING,
    consent: bool = False,
    is_example: bool = False,
    actor: str = "",
) -> Organisation:
    """Validate, embed and store one organisation."""
    organisation = build(validated(data, require_contact=source == Source.SELF), source, status, is_example)
    if consent:
        organisation.consent_processing_at = organisation.consent_publication_at = utcnow()
    return create_many([organisation], actor=actor)[0]


def submit_profile(data: Mapping[str, object], consent_publication: bool) -> tuple[Organisation, str]:
    """An enterprise describes itself: stored as pending, with its consents and a private-link token.

    Consent to processing is the condition of submitting at all; consent to publication lets staff
    publish the profile later. Returns the organisation and the token (shown once, stored hashed).
    """
    organisation = build(validated(data, require_contact=True), Source.SELF, Status.PENDING)
    organisation.consent_processing_at = utcnow()
    organisation.consent_publication_at = utcnow() if consent_publication else None
    token = access.new_token()
    organisation.access_token_hash = access.token_hash(token)
    create_many([organisation], actor=SELF)
    return organisation, token


def create_many(
    organisations: Sequence[Organisation],
    progress: Callable[[int], None] | None = None,
    actor: str = "",
    resumable: bool = False,
) -> list[Organisation]:
    """Embed and store organisations in one transaction: all of them or none. ``resumable`` (imports):
    vectors computed before an interruption are kept and reused by the next run (vector_cache)."""
    embed(organisations, progress, resumable)
    db.session.add_all(organisations)
    for organisation in organisations:
        audit.record(organisation, "created", actor)
    db.session.flush()
    _commit_and_sync(o.id for o in organisations)
    if resumable:
        model_id = index_service().embedder.model_id
        vector_cache.forget(model_id, "passage", {t for o in organisations for n in FIELDS if (t := getattr(o, n))})
    flag_duplicates(o.id for o in organisations)
    return list(organisations)


def update_organisation(
    organisation: Organisation, data: Mapping[str, object], require_contact: bool = False, actor: str = ""
) -> Organisation:
    """Apply changed fields; re-embed only when an embedded text changed; record who changed what."""
    current = {name: getattr(organisation, name) for name in Organisation.EDITABLE_FIELDS}
    values = validated({**current, **data}, require_contact=require_contact)
    changes = audit.changes_between(current, values)
    text_changed = any(name in changes for name in FIELDS)
    language_given = "description_language" in data and values["description_language"]
    for name, value in values.items():
        setattr(organisation, name, value)
    if text_changed:
        if not language_given:
            organisation.description_language = detect_language(organisation.description)
        embed([organisation])
    if changes:
        audit.record(organisation, "edited", actor, changes)
    _commit_and_sync([organisation.id])
    return organisation


def set_status(organisation: Organisation, status: Status, actor: str = "", note: str = "") -> Organisation:
    """Publish, reject, archive or restore; the index follows at once (only published ones are found)."""
    audit.record(organisation, "status", actor, {"status": [organisation.status, str(status)]}, note)
    organisation.status = status
    organisation.updated_at = utcnow()
    _commit_and_sync([organisation.id])
    return organisation


def delete_organisation(organisation: Organisation) -> None:
    """Erase the organisation and its vectors; the index drops it at once."""
    organisation_id = organisation.id
    db.session.delete(organisation)
    _commit_and_sync([organisation_id])


def reembed_stale(progress: Callable[[int], None] | None = None) -> int:
    """Re-embed organisations whose vectors came from another model (after a model change)."""
    model_id = index_service().embedder.model_id
    stale = db.session.scalars(
        select(Organisation)
        .outerjoin(Embedding)
        .where((Embedding.model_id.is_(None)) | (Embedding.model_id != model_id))
        .order_by(Organisation.id)
    ).all()
    for start in range(0, len(stale), EMBED_CHUNK):
        chunk = stale[start : start + EMBED_CHUNK]
        embed(chunk, progress)
        _commit_and_sync(o.id for o in chunk)
    return len(stale)
