"""cases: requests for footage (case number, agency, reason, period, cameras) and what answers them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 00:20:00

``cases`` (one row per request) and ``case_items`` (search results, synopses and event clips
collected for it); :mod:`safecity.store.cases`. The signed package that answers a case is an
evidence export (``evidence_exports``); the case keeps its id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Tables cases and case_items."""
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False, comment="the request's case number"),
        sa.Column("agency", sa.String(length=200), nullable=False, comment="requesting agency"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("since_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cameras", sa.JSON(), nullable=False, comment="camera keys the request covers"),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("export_id", sa.String(length=64), nullable=True, comment="the last signed package"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("number", name=op.f("uq_cases_number")),
    )
    op.create_index("ix_cases_created", "cases", ["created_at"], unique=False)
    op.create_table(
        "case_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="track|synopsis|event"),
        sa.Column("ref", sa.String(length=200), nullable=False, comment="track uid, synopsis id, event uid"),
        sa.Column("camera_key", sa.String(length=128), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_items_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_items")),
        sa.UniqueConstraint("case_id", "kind", "ref", name="uq_case_items_ref"),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("case_items")
    op.drop_index("ix_cases_created", table_name="cases")
    op.drop_table("cases")
