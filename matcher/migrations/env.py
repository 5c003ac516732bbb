"""Alembic environment: migrate the database of the current Flask app."""

from __future__ import annotations

from alembic import context

from matcher.extensions import db


def run_migrations() -> None:
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
