"""Retention in the store: which reviews are past their keeping time, and deleting one with everything that
hangs off it (clarification rounds, assessments, consensus, outbox rows) in one transaction that appends its
`review_deleted` tombstone to the audit trail, which keeps every earlier event (it is append-only).

A review's age counts from its last activity: when it finished (done or failed), or later when a round of it
was opened or finished, or an evaluator assessed it or set its consensus. Queued and running reviews are
never expired. Which stored files are still needed is answered here too: a file is needed while a review or
a clarification round names it."""

import json
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import and_, delete, exists, func, not_, or_, select, union_all

from reviewer.store.batches import batches
from reviewer.store.db import Database
from reviewer.store.jobs import FINISHED_STATUSES, reviews
from reviewer.store.notifications import notifications
from reviewer.store.panel import PanelStore, assessments, consensus
from reviewer.store.rounds import UNFINISHED_ROUNDS, rounds


class ExpiredReview(BaseModel):
    id: str
    file_name: str
    sha256: str
    status: str
    finished_at: float
    round_files: list[str]  # the content hashes of its clarification rounds' answers


class ExpiredRound(BaseModel):
    """A round left behind by a review deleted before retention existed (or while the round was opened)."""

    review_id: str
    number: int
    sha256: str


def _expired(cutoff: float):
    """The reviews whose last activity is before `cutoff`, as one condition on `reviews`."""
    finished = reviews.c.status.in_([s.value for s in FINISHED_STATUSES])
    quiet_rounds = not_(
        exists().where(
            rounds.c.review_id == reviews.c.id,
            or_(
                rounds.c.created_at >= cutoff,
                rounds.c.finished_at >= cutoff,
                rounds.c.status.in_(UNFINISHED_ROUNDS),
            ),
        )
    )
    quiet_panel = and_(
        not_(exists().where(assessments.c.review_id == reviews.c.id, assessments.c.created_at >= cutoff)),
        not_(exists().where(consensus.c.review_id == reviews.c.id, consensus.c.created_at >= cutoff)),
    )
    last = func.coalesce(reviews.c.finished_at, reviews.c.updated_at)
    return and_(finished, last < cutoff, quiet_rounds, quiet_panel)


class RetentionStore:
    """Mixed into JobStore beside the tables it reads."""

    db: Database

    def expired_reviews(self, cutoff: float) -> list[ExpiredReview]:
        """Every review past `cutoff`, oldest first, with its rounds' answer files."""
        last = func.coalesce(reviews.c.finished_at, reviews.c.updated_at)
        with self.db.connect() as conn:
            rows = conn.execute(
                select(reviews.c.id, reviews.c.file_name, reviews.c.sha256, reviews.c.status, last.label("last"))
                .where(_expired(cutoff))
                .order_by(last, reviews.c.id)
            ).all()
            answers: dict[str, list[str]] = {}
            ids = [row.id for row in rows]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                for found in conn.execute(
                    select(rounds.c.review_id, rounds.c.sha256)
                    .where(rounds.c.review_id.in_(chunk))
                    .order_by(rounds.c.number)
                ):
                    answers.setdefault(found.review_id, []).append(found.sha256)
        return [
            ExpiredReview(
                id=row.id,
                file_name=row.file_name,
                sha256=row.sha256,
                status=row.status,
                finished_at=row.last,
                round_files=answers.get(row.id, []),
            )
            for row in rows
        ]

    def purge_review(self, review: ExpiredReview, cutoff: float, actor: str, at: float) -> bool:
        """Delete the review and what hangs off it, and append its tombstone; False (nothing changed) when it
        is gone or no longer expired (a round was opened on it meanwhile). The delete of the review row comes
        first and carries the condition, so two processes purging at once write one tombstone."""
        with self.db.transaction() as conn:
            gone = conn.execute(delete(reviews).where(reviews.c.id == review.id, _expired(cutoff))).rowcount
            if gone != 1:
                return False
            conn.execute(delete(rounds).where(rounds.c.review_id == review.id))
            conn.execute(delete(assessments).where(assessments.c.review_id == review.id))
            conn.execute(delete(consensus).where(consensus.c.review_id == review.id))
            conn.execute(delete(notifications).where(notifications.c.job_id == review.id))
            tombstone = {
                "file_name": review.file_name,
                "sha256": review.sha256,
                "reason": "retention",
                "last_activity": datetime.fromtimestamp(review.finished_at, UTC).isoformat(timespec="seconds"),
                "rounds": len(review.round_files),
            }
            PanelStore._append(conn, review.id, actor, "review_deleted", None, before=tombstone, after=None, at=at)
        return True

    def orphan_rounds(self, cutoff: float) -> list[ExpiredRound]:
        """Rounds opened before `cutoff` whose review no longer exists."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(rounds.c.review_id, rounds.c.number, rounds.c.sha256).where(
                    rounds.c.created_at < cutoff, not_(exists().where(reviews.c.id == rounds.c.review_id))
                )
            ).all()
        return [ExpiredRound(review_id=r.review_id, number=r.number, sha256=r.sha256) for r in rows]

    def purge_orphan_round(self, found: ExpiredRound) -> bool:
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    delete(rounds).where(
                        rounds.c.review_id == found.review_id,
                        rounds.c.number == found.number,
                        not_(exists().where(reviews.c.id == rounds.c.review_id)),
                    )
                ).rowcount
                == 1
            )

    def file_holders(self, sha256: str) -> set[str]:
        """The ids of the reviews that need the stored file: their own upload, or one of their rounds' answers."""
        with self.db.connect() as conn:
            found = conn.execute(
                union_all(
                    select(reviews.c.id.label("holder")).where(reviews.c.sha256 == sha256),
                    select(rounds.c.review_id.label("holder")).where(rounds.c.sha256 == sha256),
                )
            ).scalars()
            return set(found)

    def expired_batches(self, cutoff: float, gone: frozenset[str] | set[str] = frozenset()) -> list[str]:
        """Batches created before `cutoff` none of whose reviews exist any more (those in `gone` counted as
        deleted already: what a dry run reports)."""
        with self.db.connect() as conn:
            rows = conn.execute(select(batches.c.id, batches.c["items"]).where(batches.c.created_at < cutoff)).all()
            empty = []
            for row in rows:
                job_ids = [i["job_id"] for i in json.loads(row.items) if i.get("job_id") and i["job_id"] not in gone]
                alive = (
                    job_ids
                    and conn.execute(
                        select(func.count()).select_from(reviews).where(reviews.c.id.in_(job_ids))
                    ).scalar_one()
                )
                if not alive:
                    empty.append(row.id)
        return empty

    def delete_batch(self, batch_id: str) -> bool:
        with self.db.transaction() as conn:
            return conn.execute(delete(batches).where(batches.c.id == batch_id)).rowcount == 1
