"""Atomic deduplication: `reviews.dedup_key`, unique, held by the newest live job of each identity.

Revision ID: 0002
Revises: 0001
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _key(sha256: str, rubric_id: str, rubric_version: str, backend: str, model: str) -> str:
    # Frozen copy of reviewer.store.jobs.dedup_key as of this revision (tests check the two agree).
    return hashlib.sha256("\x1f".join((sha256, rubric_id, rubric_version, backend, model)).encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("dedup_key", sa.String(64)))
    reviews = sa.table(
        "reviews",
        *(sa.column(name) for name in ("id", "status", "created_at", "sha256", "rubric_id", "rubric_version")),
        sa.column("backend"),
        sa.column("model"),
        sa.column("dedup_key"),
    )
    conn = op.get_bind()
    live = (
        conn.execute(
            sa.select(reviews)
            .where(reviews.c.status != "failed")
            .order_by(reviews.c.created_at.desc(), reviews.c.id.desc())
        )
        .mappings()
        .all()
    )
    seen: set[str] = set()
    for row in live:  # the newest live job of an identity is the one it deduplicated to before
        key = _key(row["sha256"], row["rubric_id"], row["rubric_version"], row["backend"], row["model"])
        if key not in seen:
            seen.add(key)
            conn.execute(sa.update(reviews).where(reviews.c.id == row["id"]).values(dedup_key=key))
    op.create_index("ux_reviews_dedup_key", "reviews", ["dedup_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_reviews_dedup_key", "reviews")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("dedup_key")
