"""viewing sessions: who watched which camera, from when to when, and how

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 00:05:00

One row per viewing session (:mod:`safecity.store.viewing`); its start and end are each one row of
the chained audit log (``view_start`` / ``view_end``), whose ids the session keeps.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Table viewing_sessions."""
    op.create_table(
        "viewing_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_key", sa.String(length=128), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column(
            "how", sa.String(length=16), nullable=False, comment="wall|on_demand|map|mjpeg|still|playback"
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "last_seen_at", sa.DateTime(timezone=True), nullable=False, comment="last sign of the viewer"
        ),
        sa.Column(
            "ended_at", sa.DateTime(timezone=True), nullable=True, comment="NULL while the session is open"
        ),
        sa.Column("end_reason", sa.String(length=32), nullable=True, comment="closed|idle|replaced|..."),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
        sa.Column(
            "detail", sa.String(length=200), nullable=True, comment="e.g. the event uid of a played-back clip"
        ),
        sa.Column(
            "start_audit_id", sa.Integer(), nullable=True, comment="audit_log row of the start (view_start)"
        ),
        sa.Column("end_audit_id", sa.Integer(), nullable=True, comment="audit_log row of the end (view_end)"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_viewing_sessions")),
    )
    op.create_index("ix_viewing_sessions_started", "viewing_sessions", ["started_at"], unique=False)
    op.create_index(
        "ix_viewing_sessions_camera_started", "viewing_sessions", ["camera_key", "started_at"], unique=False
    )
    op.create_index(
        "ix_viewing_sessions_user_started", "viewing_sessions", ["username", "started_at"], unique=False
    )
    op.create_index("ix_viewing_sessions_ended", "viewing_sessions", ["ended_at"], unique=False)


def downgrade() -> None:
    """Drop the viewing_sessions table."""
    op.drop_index("ix_viewing_sessions_ended", table_name="viewing_sessions")
    op.drop_index("ix_viewing_sessions_user_started", table_name="viewing_sessions")
    op.drop_index("ix_viewing_sessions_camera_started", table_name="viewing_sessions")
    op.drop_index("ix_viewing_sessions_started", table_name="viewing_sessions")
    op.drop_table("viewing_sessions")
