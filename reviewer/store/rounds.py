"""Clarification rounds of a review: round 1 is the review's own job (in `reviews`, never changed here);
each later round is a row here, the vendor's answer file (kept in the FileStore by content hash) and, once
graded, its own Review. Opening and finishing a round append `round_opened` / `round_finished` to the
review's audit trail in the same transaction."""

import time
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import (
    Column,
    Float,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from reviewer.store.db import Database, bounded, metadata
from reviewer.store.panel import PanelStore

# A round unfinished this long was left by a process that stopped while grading it (rounds are graded in
# the process that opened them): it is failed, so a new round can be opened.
STALE_ROUND_SECONDS = 3600.0


class RoundStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


UNFINISHED_ROUNDS = (RoundStatus.QUEUED.value, RoundStatus.RUNNING.value)

rounds = Table(
    "rounds",
    metadata,
    Column("review_id", String(32), nullable=False),
    Column("number", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("result", Text),  # the round's Review as JSON
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("opened_by", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float),
    PrimaryKeyConstraint("review_id", "number", name="pk_rounds"),
)


class RoundRecord(BaseModel):
    review_id: str
    number: int
    sha256: str
    file_name: str
    status: RoundStatus
    result: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    opened_by: str
    created_at: float
    finished_at: float | None = None


def _round(row) -> RoundRecord:
    return RoundRecord(**row)


class RoundStore:
    """Mixed into JobStore beside PanelStore, whose audit trail it appends to."""

    db: Database

    def open_round(self, review_id: str, sha256: str, file_name: str, actor: str) -> RoundRecord | None:
        """Queue the next round (2, 3, ...) of a review, or None while another round of it is unfinished.
        A round left unfinished for STALE_ROUND_SECONDS is failed first."""
        for _ in range(5):  # two callers may take the same number at once: the primary key lets one in
            now = time.time()
            try:
                with self.db.transaction() as conn:
                    self._fail_stale(conn, review_id, now)
                    busy = conn.execute(
                        select(func.count())
                        .select_from(rounds)
                        .where(rounds.c.review_id == review_id, rounds.c.status.in_(UNFINISHED_ROUNDS))
                    ).scalar_one()
                    if busy:
                        return None
                    last = conn.execute(
                        select(func.max(rounds.c.number)).where(rounds.c.review_id == review_id)
                    ).scalar_one()
                    row = bounded(
                        rounds,
                        {
                            "review_id": review_id,
                            "number": (last or 1) + 1,
                            "sha256": sha256,
                            "file_name": file_name,
                            "status": RoundStatus.QUEUED.value,
                            "opened_by": actor,
                            "created_at": now,
                        },
                    )
                    conn.execute(insert(rounds).values(**row))
                    PanelStore._append(
                        conn,
                        review_id,
                        actor,
                        "round_opened",
                        None,
                        before=None,
                        after={"round": row["number"], "file_name": row["file_name"], "sha256": sha256},
                        at=now,
                    )
            except IntegrityError:
                continue
            return _round(row)
        raise RuntimeError(f"could not open a round of review {review_id}: the database kept refusing")

    @staticmethod
    def _fail_stale(conn, review_id: str, now: float) -> None:
        conn.execute(
            update(rounds)
            .where(
                rounds.c.review_id == review_id,
                rounds.c.status.in_(UNFINISHED_ROUNDS),
                rounds.c.created_at < now - STALE_ROUND_SECONDS,
            )
            .values(
                status=RoundStatus.FAILED.value,
                error_code="interrupted",
                error_message="the process grading this round stopped before it finished",
                finished_at=now,
            )
        )

    def start_round(self, review_id: str, number: int) -> bool:
        """queued -> running; False when the round is not queued (another grader took it, or it was failed)."""
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    update(rounds)
                    .where(
                        rounds.c.review_id == review_id,
                        rounds.c.number == number,
                        rounds.c.status == RoundStatus.QUEUED.value,
                    )
                    .values(status=RoundStatus.RUNNING.value)
                ).rowcount
                == 1
            )

    def finish_round(
        self,
        review_id: str,
        number: int,
        actor: str,
        *,
        result_json: str | None = None,
        error: tuple[str, str] | None = None,
        summary: dict[str, object] | None = None,
    ) -> bool:
        """Record the round's Review (or its error) and the `round_finished` event; only a running round."""
        now = time.time()
        values: dict[str, object] = {"finished_at": now}
        if error is None:
            values.update(status=RoundStatus.DONE.value, result=result_json)
        else:
            values.update(status=RoundStatus.FAILED.value, error_code=error[0], error_message=error[1])
        with self.db.transaction() as conn:
            finished = conn.execute(
                update(rounds)
                .where(
                    rounds.c.review_id == review_id,
                    rounds.c.number == number,
                    rounds.c.status == RoundStatus.RUNNING.value,
                )
                .values(**bounded(rounds, values))
            ).rowcount
            if finished != 1:
                return False
            after = {"round": number, "status": values["status"], **(summary or {})}
            if error is not None:
                after["error"] = error[0]
            PanelStore._append(conn, review_id, actor, "round_finished", None, before=None, after=after, at=now)
        return True

    def get_round(self, review_id: str, number: int) -> RoundRecord | None:
        with self.db.connect() as conn:
            row = (
                conn.execute(select(rounds).where(rounds.c.review_id == review_id, rounds.c.number == number))
                .mappings()
                .first()
            )
        return _round(row) if row else None

    def rounds_of(self, review_id: str) -> list[RoundRecord]:
        """The review's rounds after the first, in order."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(rounds).where(rounds.c.review_id == review_id).order_by(rounds.c.number)
            ).mappings()
            return [_round(r) for r in rows]
