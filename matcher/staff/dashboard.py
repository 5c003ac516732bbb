"""The figures and queues of the staff dashboard, read from the database."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from matcher.extensions import db
from matcher.introductions.models import IntroductionRequest, IntroductionStatus
from matcher.partners.models import Organisation, utcnow
from matcher.partners.vocabulary import Status

QUEUE_LENGTH = 50


@dataclass
class Dashboard:
    by_status: dict[str, int]
    by_country: list[tuple[str, int]]
    by_theme: list[tuple[str, int]]
    by_source: dict[str, int]
    pending: list[Organisation]
    due_for_review: list[Organisation]
    new_introductions: int


def _counts(column: object) -> list[tuple[str, int]]:
    rows = db.session.execute(select(column, func.count()).group_by(column).order_by(func.count().desc(), column))
    return [(str(value), count) for value, count in rows]


def dashboard(review_months: int) -> Dashboard:
    themes = Counter(theme for (listed,) in db.session.execute(select(Organisation.themes)) for theme in listed or ())
    due = utcnow() - timedelta(days=round(30.44 * review_months))
    return Dashboard(
        by_status=dict(_counts(Organisation.status)),
        by_country=_counts(Organisation.country),
        by_theme=sorted(themes.items(), key=lambda item: (-item[1], item[0])),
        by_source=dict(_counts(Organisation.source)),
        pending=list(
            db.session.scalars(
                select(Organisation)
                .where(Organisation.status == Status.PENDING)
                .order_by(Organisation.created_at, Organisation.id)
                .limit(QUEUE_LENGTH)
            )
        ),
        due_for_review=list(
            db.session.scalars(
                select(Organisation)
                .where(Organisation.status == Status.PUBLISHED, Organisation.updated_at < due)
                .order_by(Organisation.updated_at, Organisation.id)
                .limit(QUEUE_LENGTH)
            )
        ),
        new_introductions=db.session.scalar(
            select(func.count())
            .select_from(IntroductionRequest)
            .where(IntroductionRequest.status == IntroductionStatus.NEW)
        )
        or 0,
    )
