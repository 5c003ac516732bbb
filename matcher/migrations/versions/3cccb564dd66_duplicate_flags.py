"""duplicate flags

Revision ID: 3cccb564dd66
Revises: e303b1924e9d
Create Date: 2026-11-27 13:48:59.041504
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3cccb564dd66"
down_revision = "e303b1924e9d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duplicate_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(["first_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["second_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("first_id", "second_id"),
    )
    with op.batch_alter_table("duplicate_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duplicate_flags_first_id"), ["first_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_duplicate_flags_second_id"), ["second_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_duplicate_flags_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("duplicate_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duplicate_flags_status"))
        batch_op.drop_index(batch_op.f("ix_duplicate_flags_second_id"))
        batch_op.drop_index(batch_op.f("ix_duplicate_flags_first_id"))

    op.drop_table("duplicate_flags")
