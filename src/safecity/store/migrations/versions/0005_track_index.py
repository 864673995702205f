"""track index: track_records, track_passages, track_thumbs; an R*Tree on SQLite

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:30:00

The SQLite R*Tree ``track_records_rtree`` (id = track_records.id; time as Unix seconds, the camera's
latitude and longitude; 0, 0 for cameras without a position) answers "what was alive in this period
and this map area" without scanning. It is a virtual table that SQLAlchemy's metadata does not
describe, so it exists only here and is written by :class:`safecity.store.tracks.TrackIndex`.
PostgreSQL gets plain B-tree indexes (see that module for why no PostGIS).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Tables track_records, track_passages, track_thumbs; track_records_rtree on SQLite."""
    op.create_table(
        "track_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "uid", sa.String(length=160), nullable=False, comment="<camera>-<track id>-<first seen ms>"
        ),
        sa.Column("camera_key", sa.String(length=128), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("object_class", sa.String(length=32), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dwell_s", sa.Float(), nullable=False),
        sa.Column("speed", sa.Float(), nullable=False, comment="foot point, frame fractions per second"),
        sa.Column(
            "size", sa.Float(), nullable=False, comment="median box height, fraction of the frame height"
        ),
        sa.Column("aspect", sa.Float(), nullable=False, comment="median box width / height"),
        sa.Column(
            "colour_mask", sa.Integer(), nullable=False, comment="bits of palette colours named on any part"
        ),
        sa.Column(
            "upper_mask", sa.Integer(), nullable=False, comment="bits named on the upper body (people)"
        ),
        sa.Column(
            "lower_mask", sa.Integer(), nullable=False, comment="bits named on the lower body (people)"
        ),
        sa.Column(
            "body_mask", sa.Integer(), nullable=False, comment="bits named on the body (other classes)"
        ),
        sa.Column("colours", sa.JSON(), nullable=False, comment="part -> palette keys, largest share first"),
        sa.Column("signature", sa.JSON(), nullable=False, comment="part -> 13 palette shares"),
        sa.Column(
            "box", sa.JSON(), nullable=False, comment="extent of the path [x1, y1, x2, y2], frame fractions"
        ),
        sa.Column(
            "path", sa.JSON(), nullable=False, comment="[[t_s, x, y], ...] foot points, frame fractions"
        ),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.Column("crossings", sa.JSON(), nullable=False, comment="[[line, direction, t_s], ...]"),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True, comment="camera position when the track was recorded"),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("has_thumb", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_records")),
        sa.UniqueConstraint("uid", name=op.f("uq_track_records_uid")),
    )
    op.create_index("ix_track_records_first", "track_records", ["first_at"], unique=False)
    op.create_index("ix_track_records_last", "track_records", ["last_at"], unique=False)
    op.create_index(
        "ix_track_records_camera_first", "track_records", ["camera_key", "first_at"], unique=False
    )
    op.create_index(
        "ix_track_records_class_first", "track_records", ["object_class", "first_at"], unique=False
    )
    op.create_table(
        "track_passages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("camera_key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False, comment="zone|line"),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=True, comment="lines: a_to_b|b_to_a"),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="crossing time; zones: the first sighting",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["track_records.id"],
            name=op.f("fk_track_passages_record_id_track_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_passages")),
    )
    op.create_index("ix_track_passages_name_at", "track_passages", ["kind", "name", "at"], unique=False)
    op.create_index(op.f("ix_track_passages_record_id"), "track_passages", ["record_id"], unique=False)
    op.create_table(
        "track_thumbs",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False, comment="best crop, JPEG, 96 px high"),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["track_records.id"],
            name=op.f("fk_track_thumbs_record_id_track_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_track_thumbs")),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE track_records_rtree USING rtree(id, t0, t1, lat0, lat1, lon0, lon1)")


def downgrade() -> None:
    """Drop the track index."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS track_records_rtree")
    op.drop_table("track_thumbs")
    op.drop_index(op.f("ix_track_passages_record_id"), table_name="track_passages")
    op.drop_index("ix_track_passages_name_at", table_name="track_passages")
    op.drop_table("track_passages")
    op.drop_index("ix_track_records_class_first", table_name="track_records")
    op.drop_index("ix_track_records_camera_first", table_name="track_records")
    op.drop_index("ix_track_records_last", table_name="track_records")
    op.drop_index("ix_track_records_first", table_name="track_records")
    op.drop_table("track_records")
