"""staff accounts, audit trail, introduction consent

Revision ID: e303b1924e9d
Revises: cd39d6ed1f51
Create Date: 2026-11-27 13:42:53.142161
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e303b1924e9d"
down_revision = "cd39d6ed1f51"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_users_email"), ["email"], unique=True)

    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_organisation_id"), ["organisation_id"], unique=False)

    with op.batch_alter_table("introduction_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("handled_by", sa.String(length=254), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("staff_note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_introduction_requests_consent_token_hash"), ["consent_token_hash"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("introduction_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_introduction_requests_consent_token_hash"))
        batch_op.drop_column("decided_at")
        batch_op.drop_column("staff_note")
        batch_op.drop_column("handled_by")
        batch_op.drop_column("consent_token_hash")

    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_organisation_id"))

    op.drop_table("audit_entries")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_users_email"))

    op.drop_table("staff_users")
