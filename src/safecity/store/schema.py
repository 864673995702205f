"""Tables of the safecity store (SQLAlchemy Core). Migrations live in ``store/migrations``.

Times are stored as UTC ``DateTime(timezone=True)``; JSON columns hold small structured values.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "acknowledgements",
    "audit_head",
    "audit_log",
    "camera_group_members",
    "camera_groups",
    "camera_health",
    "cameras",
    "escalations",
    "event_updates",
    "events",
    "evidence_exports",
    "import_issues",
    "import_runs",
    "incident_actions",
    "incidents",
    "mask_lifts",
    "metadata",
    "plan_items",
    "plans",
    "privacy_masks",
    "sessions",
    "sites",
    "suppressions",
    "track_passages",
    "track_records",
    "track_thumbs",
    "user_groups",
    "users",
    "viewing_sessions",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# ---------------------------------------------------------------- registry
sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_key", String(64), nullable=False, unique=True, comment="rounded position key"),
    Column("district", String(64), nullable=False, index=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("x_m", Float, nullable=False, comment="EPSG:5179 easting"),
    Column("y_m", Float, nullable=False, comment="EPSG:5179 northing"),
    Column("address", Text),
)

cameras = Table(
    "cameras",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "camera_key", String(128), nullable=False, unique=True, comment="stable id (import hash or config id)"
    ),
    Column("site_id", Integer, ForeignKey("sites.id", ondelete="SET NULL"), index=True),
    Column("name", String(200)),
    Column("district", String(64), index=True),
    Column("agency", String(200)),
    Column("purpose", String(64), index=True),
    Column("count", Integer, nullable=False, default=1, comment="cameras in this record"),
    Column("megapixels", Float),
    Column("ptz", Boolean, nullable=False, default=False),
    Column("view_text", Text),
    Column("installed_ym", String(7), comment="YYYY-MM"),
    Column("retention_days", Integer),
    Column("lat", Float),
    Column("lon", Float),
    Column("stream_url", Text, comment="live cameras only"),
    Column("source", String(300), comment="import file or 'config'"),
    Column("source_row", Integer),
)

import_runs = Table(
    "import_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("file", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("rows_total", Integer, nullable=False),
    Column("rows_ok", Integer, nullable=False),
    Column("rows_bad", Integer, nullable=False),
    Column("cameras_new", Integer, nullable=False, default=0),
    Column("cameras_updated", Integer, nullable=False, default=0),
)

import_issues = Table(
    "import_issues",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("import_runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("row", Integer, nullable=False),
    Column("reason", Text, nullable=False),
)

camera_groups = Table(
    "camera_groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", Text),
)

camera_group_members = Table(
    "camera_group_members",
    metadata,
    Column("group_id", Integer, ForeignKey("camera_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("camera_key", String(128), primary_key=True),
)

privacy_masks = Table(
    "privacy_masks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("camera_key", String(128), nullable=False, index=True),
    Column("polygon", JSON, nullable=False, comment="[[x, y], ...] in image fractions 0..1"),
    Column("label", String(100)),
)

camera_health = Table(
    "camera_health",
    metadata,
    Column("camera_key", String(128), primary_key=True),
    Column("state", String(16), nullable=False, comment="online|offline|frozen|covered|blurred|moved"),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("last_event_at", DateTime(timezone=True)),
    Column("detail", Text),
)

# ---------------------------------------------------------------- planning
plans = Table(
    "plans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False, comment="sites|replace"),
    Column("area", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("budget_krw", Float, nullable=False),
    Column("cost_krw", Float, nullable=False),
    Column("status", String(32), nullable=False),
    Column("objective", Float),
    Column("mip_gap", Float),
    Column("params", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
)

plan_items = Table(
    "plan_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_id", Integer, ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("rank", Integer, nullable=False),
    Column("kind", String(32), nullable=False, comment="streetlight|existing_site|grid|request|replacement"),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("camera_type", String(16)),
    Column("n_cameras", Integer, nullable=False),
    Column("cost_krw", Float, nullable=False),
    Column("priority", Float, nullable=False),
    Column("ref", String(128)),
    Column("props", JSON),
)

# ---------------------------------------------------------------- events and console
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(64), nullable=False, unique=True),
    Column("camera_key", String(128), nullable=False),
    Column("type", String(32), nullable=False),
    Column("zone", String(100)),
    Column("severity", Integer, nullable=False),
    Column("start_at", DateTime(timezone=True), nullable=False),
    Column("end_at", DateTime(timezone=True)),
    Column("state", String(16), nullable=False, default="new", comment="new|acknowledged|escalated|closed"),
    Column("object_class", String(32)),
    Column("direction", String(16)),
    Column("track_ids", JSON),
    Column("box", JSON, comment="[x1, y1, x2, y2] in image fractions"),
    Column("snapshot_path", Text),
    Column("clip_path", Text),
    Column("detail", JSON),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column(
        "incident_id",
        Integer,
        ForeignKey("incidents.id", ondelete="SET NULL"),
        index=True,
        comment="the incident it was folded into (migration 0004); null: ignored or suppressed",
    ),
    Column("suppressed_by", Integer, comment="suppressions.id that matched it (stored, no alert)"),
    Index("ix_events_camera_start", "camera_key", "start_at"),
    Index("ix_events_type_start", "type", "start_at"),
    Index("ix_events_state", "state"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("camera_key", String(128), nullable=False),
    Column("zone_key", String(100), nullable=False, comment="zone/line, '' whole frame, '@camera' health"),
    Column("zone", String(100)),
    Column("level", String(8), nullable=False, comment="alert|record"),
    Column("state", String(16), nullable=False, comment="new|acknowledged|escalated|closed"),
    Column("needs_ack", Boolean, nullable=False, comment="alert level and not yet acknowledged"),
    Column("rings", Integer, nullable=False, comment="times it entered needs_ack (new, or severity rose)"),
    Column("severity", Integer, nullable=False, comment="highest severity of its events"),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False, comment="newest message of its events"),
    Column("end_at", DateTime(timezone=True), comment="set when its last live event ended"),
    Column("event_count", Integer, nullable=False),
    Column("open_events", Integer, nullable=False, comment="events still live"),
    Column("types", JSON, nullable=False, comment="event types, sorted"),
    Column("object_classes", JSON, nullable=False, comment="object classes, sorted"),
    Column("track_ids", JSON, nullable=False, comment="track ids (at most 200), sorted"),
    Column("best_event_id", Integer, comment="events.id with the highest severity, then score"),
    Column("best_score", Float, nullable=False, comment="severity + detection score of the best event"),
    Column("closed_reason", String(16), comment="operator|auto|false_alarm"),
    Column("closed_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_incidents_open", "camera_key", "zone_key", "closed_at"),
    Index("ix_incidents_state_last", "state", "last_at"),
    Index("ix_incidents_needs_ack", "needs_ack"),
)

incident_actions = Table(
    "incident_actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("username", String(64), comment="null for automatic actions"),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(16), nullable=False, comment="ack|escalate|close|false_alarm|auto_close|reopen"),
    Column("target", String(32), comment="escalation target 112|119|district"),
    Column("note", Text),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("camera_key", String(128), nullable=False),
    Column("type", String(32), nullable=False),
    Column("object_class", String(32), comment="null matches any class"),
    Column("box", JSON, comment="[x1, y1, x2, y2] fractions; null matches anywhere"),
    Column("min_iou", Float, nullable=False),
    Column("max_centre_dist", Float, nullable=False, comment="centre distance in frame fractions"),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="SET NULL")),
    Column("username", String(64), nullable=False),
    Column("note", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("lifted_at", DateTime(timezone=True)),
    Column("lifted_by", String(64)),
    Column("suppressed_count", Integer, nullable=False),
    Index("ix_suppressions_active", "camera_key", "type", "expires_at"),
)

event_updates = Table(
    "event_updates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False, comment="start|update|end"),
    Column("detail", JSON),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False, comment="admin|operator|viewer"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

user_groups = Table(
    "user_groups",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("camera_groups.id", ondelete="CASCADE"), primary_key=True),
)

acknowledgements = Table(
    "acknowledgements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("username", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("note", Text),
)

escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("username", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("target", String(32), nullable=False, comment="112|119|district"),
    Column("note", Text),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("username", String(64)),
    Column("action", String(48), nullable=False, comment="view_camera|view_clip|login|ack|escalate|..."),
    Column("target_type", String(32)),
    Column("target_id", String(128)),
    Column("remote_addr", String(64)),
    Column("allowed", Boolean, nullable=False),
    Column("detail", Text),
    Column("prev_hash", String(64), comment="row_hash of the row before (hash chain, migration 0003)"),
    Column("row_hash", String(64), comment="sha256 of this row's canonical form and prev_hash"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, comment="always 1: the lock row that serialises appends"),
    Column("rows", Integer, nullable=False, comment="rows appended to the chain"),
    Column("last_id", Integer, comment="id of the newest chained row"),
    Column("last_hash", String(64), nullable=False),
)

evidence_exports = Table(
    "evidence_exports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("export_id", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("username", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("camera_key", String(128), nullable=False, index=True),
    Column("event_uid", String(64), comment="set for the export of one event"),
    Column("start_at", DateTime(timezone=True), nullable=False),
    Column("end_at", DateTime(timezone=True), nullable=False),
    Column("path", Text, nullable=False, comment="package folder"),
    Column("manifest_sha256", String(64), nullable=False),
    Column("media", JSON, nullable=False, comment="media files (relative to the media root) it holds"),
)

mask_lifts = Table(
    "mask_lifts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("camera_key", String(128), nullable=False, index=True),
    Column("username", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("ended_at", DateTime(timezone=True), comment="set when ended before it expired"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True, comment="sha256 hex of the token"),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("remote_addr", String(64)),
)

# ---------------------------------------------------------------- track index (migration 0005)
track_records = Table(
    "track_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(160), nullable=False, unique=True, comment="<camera>-<track id>-<first seen ms>"),
    Column("camera_key", String(128), nullable=False),
    Column("track_id", Integer, nullable=False),
    Column("object_class", String(32), nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("dwell_s", Float, nullable=False),
    Column("speed", Float, nullable=False, comment="foot point, frame fractions per second"),
    Column("size", Float, nullable=False, comment="median box height, fraction of the frame height"),
    Column("aspect", Float, nullable=False, comment="median box width / height"),
    Column("colour_mask", Integer, nullable=False, comment="bits of palette colours named on any part"),
    Column("upper_mask", Integer, nullable=False, comment="bits named on the upper body (people)"),
    Column("lower_mask", Integer, nullable=False, comment="bits named on the lower body (people)"),
    Column("body_mask", Integer, nullable=False, comment="bits named on the body (other classes)"),
    Column("colours", JSON, nullable=False, comment="part -> palette keys, largest share first"),
    Column("signature", JSON, nullable=False, comment="part -> 13 palette shares"),
    Column("box", JSON, nullable=False, comment="extent of the path [x1, y1, x2, y2], frame fractions"),
    Column("path", JSON, nullable=False, comment="[[t_s, x, y], ...] foot points, frame fractions"),
    Column("zones", JSON, nullable=False),
    Column("crossings", JSON, nullable=False, comment="[[line, direction, t_s], ...]"),
    Column("confidence", Float, nullable=False),
    Column("lat", Float, comment="camera position when the track was recorded"),
    Column("lon", Float),
    Column("has_thumb", Boolean, nullable=False),
    Index("ix_track_records_first", "first_at"),
    Index("ix_track_records_last", "last_at"),
    Index("ix_track_records_camera_first", "camera_key", "first_at"),
    Index("ix_track_records_class_first", "object_class", "first_at"),
)

track_passages = Table(
    "track_passages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "record_id", Integer, ForeignKey("track_records.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("camera_key", String(128), nullable=False),
    Column("kind", String(8), nullable=False, comment="zone|line"),
    Column("name", String(64), nullable=False),
    Column("direction", String(8), comment="lines: a_to_b|b_to_a"),
    Column("at", DateTime(timezone=True), nullable=False, comment="crossing time; zones: the first sighting"),
    Index("ix_track_passages_name_at", "kind", "name", "at"),
)

track_thumbs = Table(
    "track_thumbs",
    metadata,
    Column("record_id", Integer, ForeignKey("track_records.id", ondelete="CASCADE"), primary_key=True),
    Column("jpeg", LargeBinary, nullable=False, comment="best crop, JPEG, 96 px high"),
)

# ---------------------------------------------------------------- viewing sessions (safecity.store.viewing)
viewing_sessions = Table(
    "viewing_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("camera_key", String(128), nullable=False),
    Column("username", String(64), nullable=False),
    Column("how", String(16), nullable=False, comment="wall|on_demand|map|mjpeg|still|playback"),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, comment="last sign of the viewer"),
    Column("ended_at", DateTime(timezone=True), comment="NULL while the session is open"),
    Column("end_reason", String(32), comment="closed|idle|replaced|..."),
    Column("remote_addr", String(64)),
    Column("detail", String(200), comment="e.g. the event uid of a played-back clip"),
    Column("start_audit_id", Integer, comment="audit_log row of the start (view_start)"),
    Column("end_audit_id", Integer, comment="audit_log row of the end (view_end)"),
    Index("ix_viewing_sessions_started", "started_at"),
    Index("ix_viewing_sessions_camera_started", "camera_key", "started_at"),
    Index("ix_viewing_sessions_user_started", "username", "started_at"),
    Index("ix_viewing_sessions_ended", "ended_at"),
)
