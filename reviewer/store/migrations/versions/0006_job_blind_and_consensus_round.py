"""Two facts that lived in other columns get their own: a job's blind model input (folded into `reviews.model`
as a "+blind" suffix) and the clarification round a consensus was set on (written only into its
`consensus_set` audit event).

Revision ID: 0006
Revises: 0005
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BLIND_SUFFIX = "+blind"

reviews = sa.table("reviews", sa.column("id", sa.String), sa.column("model", sa.String), sa.column("blind_input"))
consensus = sa.table(
    "consensus",
    sa.column("id", sa.String),
    sa.column("review_id", sa.String),
    sa.column("criterion_id", sa.String),
    sa.column("created_at", sa.Float),
    sa.column("round", sa.Integer),
)
audit_events = sa.table(
    "audit_events",
    sa.column("review_id", sa.String),
    sa.column("criterion_id", sa.String),
    sa.column("at", sa.Float),
    sa.column("action", sa.String),
    sa.column("after", sa.Text),
)


def _round_in(after: str | None) -> int:
    try:
        number = (json.loads(after) if after else {}).get("round", 1)
    except (ValueError, AttributeError):
        return 1
    return number if isinstance(number, int) and number >= 1 else 1


def upgrade() -> None:
    op.add_column("reviews", sa.Column("blind_input", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("consensus", sa.Column("round", sa.Integer, nullable=False, server_default="1"))

    conn = op.get_bind()
    marked = conn.execute(sa.select(reviews.c.id, reviews.c.model).where(reviews.c.model.endswith(BLIND_SUFFIX)))
    for row in marked.all():
        conn.execute(
            reviews.update()
            .where(reviews.c.id == row.id)
            .values(model=row.model[: -len(BLIND_SUFFIX)], blind_input=True)
        )
    set_on = {
        (e.review_id, e.criterion_id, e.at): _round_in(e.after)
        for e in conn.execute(
            sa.select(
                audit_events.c.review_id, audit_events.c.criterion_id, audit_events.c.at, audit_events.c.after
            ).where(audit_events.c.action == "consensus_set")
        )
    }
    for row in conn.execute(
        sa.select(consensus.c.id, consensus.c.review_id, consensus.c.criterion_id, consensus.c.created_at)
    ).all():
        number = set_on.get((row.review_id, row.criterion_id, row.created_at), 1)
        if number != 1:
            conn.execute(consensus.update().where(consensus.c.id == row.id).values(round=number))


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        reviews.update().where(reviews.c.blind_input == sa.true()).values(model=reviews.c.model + BLIND_SUFFIX)
    )
    with op.batch_alter_table("consensus") as batch:
        batch.drop_column("round")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("blind_input")
