"""The alert run (`matcher alerts send`, from cron): one digest per saved search with new matches.

"New" means published since the saved search last ran (since it was saved, the first time).
The publication time is derived from existing data, not from a new column:

* the audit trail records every status change with its time (``AuditEntry`` with action
  "status" and ``changes["status"] == [before, "published"]``): moderation, restoring;
* an organisation stored as published at once (imports, staff, examples) has no status change,
  only its ``created_at``; one created after the last run and published now was necessarily
  published after it, whatever the path.

``Organisation.updated_at`` is not used: every edit moves it, which would present old partners as
new. "Matches" means the organisation is among the first ``DEPTH`` results of the saved query
(``matcher.matching.search`` with the saved filters): what the search page would list. Every
organisation mailed is recorded in ``AlertDelivery``: it is never mailed again for that search,
even if it is archived and published again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from matcher import mail
from matcher.alerts.models import AlertDelivery, SavedSearch
from matcher.extensions import db
from matcher.matching import search
from matcher.partners.audit import AuditEntry
from matcher.partners.models import Organisation, utcnow
from matcher.partners.vocabulary import Status, country_name

# How deep in the results of a saved search a new organisation may be and still count as a match.
DEPTH = 200


@dataclass
class RunSummary:
    searches: int = 0
    mails: int = 0
    organisations: int = 0
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = f"{self.searches} saved searches run, {self.mails} mails sent, {self.organisations} organisations"
        return text + (f", {len(self.failures)} failed" if self.failures else "")


def published_since(since: datetime) -> set[int]:
    """Ids of the organisations published now whose publication happened at or after `since`."""
    fresh = set(
        db.session.scalars(
            select(Organisation.id).where(Organisation.status == Status.PUBLISHED, Organisation.created_at >= since)
        )
    )
    changes = db.session.execute(
        select(AuditEntry.organisation_id, AuditEntry.changes)
        .join(Organisation, Organisation.id == AuditEntry.organisation_id)
        .where(AuditEntry.action == "status", AuditEntry.at >= since, Organisation.status == Status.PUBLISHED)
    )
    for organisation_id, change in changes:
        status = (change or {}).get("status") or []
        if status and status[-1] == Status.PUBLISHED:
            fresh.add(organisation_id)
    return fresh


def new_matches(saved: SavedSearch, depth: int = DEPTH) -> list[Organisation]:
    """Organisations published since the last run that the saved search finds and that were never sent."""
    fresh = published_since(saved.last_run_at or saved.created_at)
    if not fresh:
        return []  # no query to embed when nothing was published
    sent = set(
        db.session.scalars(select(AlertDelivery.organisation_id).where(AlertDelivery.saved_search_id == saved.id))
    )
    candidates = fresh - sent
    if not candidates:
        return []
    results = search(saved.query, k=depth, filters=saved.as_filters())
    return [result.organisation for result in results if result.organisation.id in candidates]


def _staff_link(organisation: Organisation) -> str:
    return url_for("staff.organisation", organisation_id=organisation.id, _external=True)


def _digest(saved: SavedSearch, organisations: list[Organisation]) -> tuple[str, str]:
    """Subject and body. Links are absolute: call within a request context with the site's address."""
    lines = [f"- {o.name} ({country_name(o.country)})\n  {_staff_link(o)}" for o in organisations]
    rerun = url_for("public.search_page", **saved.search_arguments(), _external=True)
    body = "\n\n".join(
        (
            _("Hello,"),
            _(
                "New organisations match your saved search “%(name)s” (%(query)s):",
                name=saved.name,
                query=saved.query,
            ),
            "\n".join(lines),
            _("See all the results of this search:") + f"\n{rerun}",
            _("You receive this message because you saved this search in the back-office.")
            + "\n"
            + url_for("alerts.index", _external=True),
        )
    )
    subject = ngettext(
        "A new organisation for “%(name)s”",
        "%(num)d new organisations for “%(name)s”",
        len(organisations),
        name=saved.name,
    )
    return subject, body


def send_alerts(depth: int = DEPTH) -> RunSummary:
    """Run every saved search once and mail each owner a digest of the new matches.

    Must run within a request context whose base URL is the site's address (for the links).
    A saved search whose mail fails keeps its last run time, so the next run tries again.
    """
    summary = RunSummary()
    started = utcnow()
    saved_ids = list(db.session.scalars(select(SavedSearch.id).order_by(SavedSearch.id)))
    for saved_id in saved_ids:
        saved = db.session.get(SavedSearch, saved_id)
        if saved is None:  # deleted meanwhile
            continue
        summary.searches += 1
        organisations = new_matches(saved, depth) if saved.owner.active else []
        if organisations:
            with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
                subject, body = _digest(saved, organisations)
            try:
                mail.send(saved.owner.email, subject, body)
            except OSError as error:  # SMTP errors included
                db.session.rollback()
                summary.failures.append(f"saved search {saved_id}: {error}")
                continue
            now = utcnow()
            db.session.add_all(
                AlertDelivery(saved_search_id=saved.id, organisation_id=o.id, sent_at=now) for o in organisations
            )
            summary.mails += 1
            summary.organisations += len(organisations)
        saved.last_run_at = started
        db.session.commit()
    return summary
