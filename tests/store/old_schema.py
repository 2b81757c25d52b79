"""Frozen copy of the schema the last release without migrations made with `metadata.create_all` (reviewer/store.py
before the store became a package). Never edit: it is what users' databases look like."""

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()
reviews = Table(
    "reviews",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("file_name", String(255), nullable=False),
    Column("vendor_name", String(255)),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("rubric_name", String(128), nullable=False),
    Column("rubric_id", String(64), nullable=False),
    Column("rubric_version", String(32), nullable=False),
    Column("backend", String(32), nullable=False),
    Column("model", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(64)),
    Column("lease_until", Float),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("result", Text),
    Index("ix_reviews_status_created", "status", "created_at"),
    Index("ix_reviews_identity", "sha256", "rubric_id", "rubric_version", "backend", "model"),
)


batches = Table(
    "batches",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("rubric_name", String(128), nullable=False),
    Column("anonymize", Integer, nullable=False, default=0),
    Column("items", Text, nullable=False),  # JSON: [{"file_name", "job_id", "error"}]
)


notifications = Table(
    "notifications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("job_id", String(32), nullable=False, index=True),
    Column("channel", String(32), nullable=False),  # e.g. "slack"
    Column("target", Text, nullable=False),  # JSON: where to post
    Column("status", String(16), nullable=False),  # pending | sent | abandoned
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(64)),
    Column("lease_until", Float),
    Column("created_at", Float, nullable=False),
)
