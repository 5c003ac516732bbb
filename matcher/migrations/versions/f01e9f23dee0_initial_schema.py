"""initial schema

Revision ID: f01e9f23dee0
Revises:
Create Date: 2026-11-27 10:06:25.465119
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f01e9f23dee0"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_changes_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=300), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=False),
        sa.Column("legal_form", sa.String(length=32), nullable=False),
        sa.Column("size", sa.String(length=16), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_language", sa.String(length=8), nullable=False),
        sa.Column("offers", sa.Text(), nullable=False),
        sa.Column("seeks", sa.Text(), nullable=False),
        sa.Column("partnership_types", sa.JSON(), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("consent_processing_at", sa.DateTime(), nullable=True),
        sa.Column("consent_publication_at", sa.DateTime(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_reference", sa.String(length=200), nullable=False),
        sa.Column("is_example", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisations_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_organisations_source_reference"), ["source_reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_organisations_status"), ["status"], unique=False)

    op.create_table(
        "embeddings",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.Column("description", sa.LargeBinary(), nullable=False),
        sa.Column("offers", sa.LargeBinary(), nullable=True),
        sa.Column("seeks", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("organisation_id"),
    )


def downgrade() -> None:
    op.drop_table("embeddings")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisations_status"))
        batch_op.drop_index(batch_op.f("ix_organisations_source_reference"))
        batch_op.drop_index(batch_op.f("ix_organisations_country"))

    op.drop_table("organisations")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_changes_organisation_id"))

    op.drop_table("changes")
