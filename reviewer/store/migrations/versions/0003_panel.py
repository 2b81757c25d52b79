"""The human layer: assessments, consensus and the append-only audit trail (issue 14).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_REFUSE = "audit events are append-only"


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("review_id", sa.String(32), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("criterion_id", sa.String(64), nullable=False),
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("grade", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("rejected_citations", sa.Text, nullable=False),
        sa.Column("citations", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_assessments_review", "assessments", ["review_id", "created_at"])
    op.create_table(
        "consensus",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("review_id", sa.String(32), nullable=False),
        sa.Column("criterion_id", sa.String(64), nullable=False),
        sa.Column("grade", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("lead", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_consensus_review", "consensus", ["review_id", "created_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("review_id", sa.String(32), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("criterion_id", sa.String(64)),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
    )
    op.create_index("ix_audit_events_review", "audit_events", ["review_id", "id"])
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("blind", sa.Integer, nullable=False, server_default="0"))
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_refuse()")
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("blind")
    op.drop_table("audit_events")
    op.drop_table("consensus")
    op.drop_table("assessments")
