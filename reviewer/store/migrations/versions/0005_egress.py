"""The egress log: one row per request a model backend sent (issue 16, data safety).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "egress",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("review_id", sa.String(32)),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("model", sa.String(128)),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("bytes_sent", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_egress_review", "egress", ["review_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_egress_review", table_name="egress")
    op.drop_table("egress")
