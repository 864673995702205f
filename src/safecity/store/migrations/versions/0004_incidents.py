"""incidents: events folded per camera and zone, operator actions on incidents, false-alarm suppressions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 22:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Tables incidents, incident_actions, suppressions; events.incident_id and events.suppressed_by."""
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_key", sa.String(length=128), nullable=False),
        sa.Column(
            "zone_key",
            sa.String(length=100),
            nullable=False,
            comment="zone/line, '' whole frame, '@camera' health",
        ),
        sa.Column("zone", sa.String(length=100), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=False, comment="alert|record"),
        sa.Column("state", sa.String(length=16), nullable=False, comment="new|acknowledged|escalated|closed"),
        sa.Column("needs_ack", sa.Boolean(), nullable=False, comment="alert level and not yet acknowledged"),
        sa.Column(
            "rings",
            sa.Integer(),
            nullable=False,
            comment="times it entered needs_ack (new, or severity rose)",
        ),
        sa.Column("severity", sa.Integer(), nullable=False, comment="highest severity of its events"),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "last_at", sa.DateTime(timezone=True), nullable=False, comment="newest message of its events"
        ),
        sa.Column(
            "end_at", sa.DateTime(timezone=True), nullable=True, comment="set when its last live event ended"
        ),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("open_events", sa.Integer(), nullable=False, comment="events still live"),
        sa.Column("types", sa.JSON(), nullable=False, comment="event types, sorted"),
        sa.Column("object_classes", sa.JSON(), nullable=False, comment="object classes, sorted"),
        sa.Column("track_ids", sa.JSON(), nullable=False, comment="track ids (at most 200), sorted"),
        sa.Column(
            "best_event_id",
            sa.Integer(),
            nullable=True,
            comment="events.id with the highest severity, then score",
        ),
        sa.Column(
            "best_score", sa.Float(), nullable=False, comment="severity + detection score of the best event"
        ),
        sa.Column("closed_reason", sa.String(length=16), nullable=True, comment="operator|auto|false_alarm"),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index("ix_incidents_open", "incidents", ["camera_key", "zone_key", "closed_at"], unique=False)
    op.create_index("ix_incidents_state_last", "incidents", ["state", "last_at"], unique=False)
    op.create_index("ix_incidents_needs_ack", "incidents", ["needs_ack"], unique=False)
    op.create_table(
        "incident_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True, comment="null for automatic actions"),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "action",
            sa.String(length=16),
            nullable=False,
            comment="ack|escalate|close|false_alarm|auto_close|reopen",
        ),
        sa.Column(
            "target", sa.String(length=32), nullable=True, comment="escalation target 112|119|district"
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_actions_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_actions")),
    )
    op.create_index(
        op.f("ix_incident_actions_incident_id"), "incident_actions", ["incident_id"], unique=False
    )
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_key", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("object_class", sa.String(length=32), nullable=True, comment="null matches any class"),
        sa.Column(
            "box", sa.JSON(), nullable=True, comment="[x1, y1, x2, y2] fractions; null matches anywhere"
        ),
        sa.Column("min_iou", sa.Float(), nullable=False),
        sa.Column(
            "max_centre_dist", sa.Float(), nullable=False, comment="centre distance in frame fractions"
        ),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=64), nullable=True),
        sa.Column("suppressed_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_suppressions_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
    )
    op.create_index(
        "ix_suppressions_active", "suppressions", ["camera_key", "type", "expires_at"], unique=False
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "incident_id",
                sa.Integer(),
                nullable=True,
                comment="the incident it was folded into (migration 0004); null: ignored or suppressed",
            )
        )
        batch_op.add_column(
            sa.Column(
                "suppressed_by",
                sa.Integer(),
                nullable=True,
                comment="suppressions.id that matched it (stored, no alert)",
            )
        )
        batch_op.create_index(batch_op.f("ix_events_incident_id"), ["incident_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_events_incident_id_incidents"),
            "incidents",
            ["incident_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Drop what upgrade added (events keep their rows, without incident links)."""
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_events_incident_id_incidents"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_events_incident_id"))
        batch_op.drop_column("suppressed_by")
        batch_op.drop_column("incident_id")
    op.drop_index("ix_suppressions_active", table_name="suppressions")
    op.drop_table("suppressions")
    op.drop_index(op.f("ix_incident_actions_incident_id"), table_name="incident_actions")
    op.drop_table("incident_actions")
    op.drop_index("ix_incidents_needs_ack", table_name="incidents")
    op.drop_index("ix_incidents_state_last", table_name="incidents")
    op.drop_index("ix_incidents_open", table_name="incidents")
    op.drop_table("incidents")
