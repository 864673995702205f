"""hardening: audit hash chain, evidence exports, privacy-mask lifts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 21:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from safecity.store.audit_chain import GENESIS, row_digest

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Chain columns on audit_log (existing rows chained here), the chain head, exports and mask lifts."""
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "prev_hash",
                sa.String(length=64),
                nullable=True,
                comment="row_hash of the row before (hash chain, migration 0003)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "row_hash",
                sa.String(length=64),
                nullable=True,
                comment="sha256 of this row's canonical form and prev_hash",
            )
        )
    head = op.create_table(
        "audit_head",
        sa.Column(
            "id", sa.Integer(), nullable=False, comment="always 1: the lock row that serialises appends"
        ),
        sa.Column("rows", sa.Integer(), nullable=False, comment="rows appended to the chain"),
        sa.Column("last_id", sa.Integer(), nullable=True, comment="id of the newest chained row"),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "evidence_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("camera_key", sa.String(length=128), nullable=False),
        sa.Column(
            "event_uid", sa.String(length=64), nullable=True, comment="set for the export of one event"
        ),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.Text(), nullable=False, comment="package folder"),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "media", sa.JSON(), nullable=False, comment="media files (relative to the media root) it holds"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_exports")),
        sa.UniqueConstraint("export_id", name=op.f("uq_evidence_exports_export_id")),
    )
    with op.batch_alter_table("evidence_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_exports_camera_key"), ["camera_key"], unique=False)
    op.create_table(
        "mask_lifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_key", sa.String(length=128), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "ended_at", sa.DateTime(timezone=True), nullable=True, comment="set when ended before it expired"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mask_lifts")),
    )
    with op.batch_alter_table("mask_lifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mask_lifts_camera_key"), ["camera_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_mask_lifts_expires_at"), ["expires_at"], unique=False)

    # Chain the rows written before this revision, oldest first, and start the head after them.
    conn = op.get_bind()
    log = sa.table(
        "audit_log",
        sa.column("id", sa.Integer()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("username", sa.String()),
        sa.column("action", sa.String()),
        sa.column("target_type", sa.String()),
        sa.column("target_id", sa.String()),
        sa.column("remote_addr", sa.String()),
        sa.column("allowed", sa.Boolean()),
        sa.column("detail", sa.Text()),
        sa.column("prev_hash", sa.String()),
        sa.column("row_hash", sa.String()),
    )
    prev, last_id, n = GENESIS, None, 0
    rows = conn.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    for r in rows:
        digest = row_digest(prev, r)
        conn.execute(sa.update(log).where(log.c.id == r["id"]).values(prev_hash=prev, row_hash=digest))
        prev, last_id, n = digest, int(r["id"]), n + 1
    conn.execute(sa.insert(head).values(id=1, rows=n, last_id=last_id, last_hash=prev))


def downgrade() -> None:
    """Drop the tables and columns of this revision (the chain is lost)."""
    with op.batch_alter_table("mask_lifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mask_lifts_expires_at"))
        batch_op.drop_index(batch_op.f("ix_mask_lifts_camera_key"))
    op.drop_table("mask_lifts")
    with op.batch_alter_table("evidence_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_exports_camera_key"))
    op.drop_table("evidence_exports")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
