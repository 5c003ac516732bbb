"""private links and introduction requests

Revision ID: cd39d6ed1f51
Revises: f01e9f23dee0
Create Date: 2026-11-27 12:55:18.957725
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cd39d6ed1f51"
down_revision = "f01e9f23dee0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "introduction_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["requester_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["target_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("introduction_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_introduction_requests_requester_id"), ["requester_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_introduction_requests_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_introduction_requests_target_id"), ["target_id"], unique=False)

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("access_token_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_organisations_access_token_hash"), ["access_token_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisations_access_token_hash"))
        batch_op.drop_column("access_token_hash")

    with op.batch_alter_table("introduction_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_introduction_requests_target_id"))
        batch_op.drop_index(batch_op.f("ix_introduction_requests_status"))
        batch_op.drop_index(batch_op.f("ix_introduction_requests_requester_id"))

    op.drop_table("introduction_requests")
