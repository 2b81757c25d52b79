"""The human layer of reviews: evaluators' assessments, the lead's consensus, and the audit trail.

Assessments and consensus are appended, never changed: a later one supersedes an earlier one in the final
view (reviewer.assessment), and both stay readable. Audit events are append-only in the strongest sense
this store can give: this module has no update or delete path for them, and the database refuses both
(triggers installed by migration 0003).

Each assessment and each consensus records the clarification round it was made on (the `round` column; a
consensus set before migration 0006 has the round its `consensus_set` audit event named, else round 1)."""

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, delete, func, insert, select

from reviewer.review import Assessment, Citation, Consensus, Grade
from reviewer.store.db import Database, bounded, metadata

assessments = Table(
    "assessments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("review_id", String(32), nullable=False),
    Column("round", Integer, nullable=False, default=1),
    Column("criterion_id", String(64), nullable=False),
    Column("evaluator", String(64), nullable=False),
    Column("grade", String(16), nullable=False),
    Column("reason", Text),
    Column("note", Text),
    Column("rejected_citations", Text, nullable=False),  # JSON list of indexes into the grader's citations
    Column("citations", Text, nullable=False),  # JSON list of verified Citation
    Column("created_at", Float, nullable=False),
    Index("ix_assessments_review", "review_id", "created_at"),
)

consensus = Table(
    "consensus",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("review_id", String(32), nullable=False),
    Column("round", Integer, nullable=False, default=1, server_default="1"),
    Column("criterion_id", String(64), nullable=False),
    Column("grade", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("lead", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_consensus_review", "review_id", "created_at"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("review_id", String(32), nullable=False),
    Column("at", Float, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("criterion_id", String(64)),
    Column("before", Text),  # JSON
    Column("after", Text),  # JSON
    Index("ix_audit_events_review", "review_id", "id"),
)


class AuditEvent(BaseModel):
    id: int
    review_id: str
    at: datetime
    actor: str
    action: str
    criterion_id: str | None = None
    before: Any = None
    after: Any = None

    @property
    def change(self) -> str:
        """'met -> partial (reason)' for a grade change; '' for other events."""
        if not (isinstance(self.before, dict) and isinstance(self.after, dict) and "grade" in self.after):
            return ""
        text = f"{self.before.get('grade') or '-'} -> {self.after['grade']}"
        return f"{text} ({self.after['reason']})" if self.after.get("reason") else text


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _assessment(row) -> Assessment:
    return Assessment(
        id=row.id,
        review_id=row.review_id,
        criterion_id=row.criterion_id,
        evaluator=row.evaluator,
        round=row.round,
        grade=Grade(row.grade),
        reason=row.reason,
        note=row.note,
        rejected_citations=json.loads(row.rejected_citations),
        citations=[Citation.model_validate(c) for c in json.loads(row.citations)],
        created_at=_when(row.created_at),
    )


def _consensus(row) -> Consensus:
    return Consensus(
        review_id=row.review_id,
        criterion_id=row.criterion_id,
        round=row.round,
        grade=Grade(row.grade),
        reason=row.reason,
        lead=row.lead,
        created_at=_when(row.created_at),
    )


class PanelStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_assessment(
        self,
        review_id: str,
        criterion_id: str,
        evaluator: str,
        grade: Grade,
        *,
        reason: str | None,
        note: str | None,
        rejected_citations: list[int],
        citations: list[Citation],
        before: Grade | None,
        round_number: int = 1,
    ) -> Assessment:
        """Record an assessment of round `round_number` and its audit event in one transaction."""
        now = time.time()
        row = bounded(
            assessments,
            {
                "id": uuid.uuid4().hex,
                "review_id": review_id,
                "round": round_number,
                "criterion_id": criterion_id,
                "evaluator": evaluator,
                "grade": grade.value,
                "reason": reason,
                "note": note,
                "rejected_citations": json.dumps(rejected_citations),
                "citations": json.dumps([c.model_dump(mode="json") for c in citations]),
                "created_at": now,
            },
        )
        with self.db.transaction() as conn:
            conn.execute(insert(assessments).values(**row))
            self._append(
                conn,
                review_id,
                evaluator,
                "assessed",
                criterion_id,
                before={"grade": before.value if before else None},
                after={"grade": grade.value, "reason": reason, "note": note, "round": round_number},
                at=now,
            )
            found = conn.execute(select(assessments).where(assessments.c.id == row["id"])).one()
        return _assessment(found)

    def set_consensus(
        self,
        review_id: str,
        criterion_id: str,
        lead: str,
        grade: Grade,
        reason: str,
        *,
        before: Grade | None,
        round_number: int = 1,
    ) -> Consensus:
        now = time.time()
        row = bounded(
            consensus,
            {
                "id": uuid.uuid4().hex,
                "review_id": review_id,
                "round": round_number,
                "criterion_id": criterion_id,
                "grade": grade.value,
                "reason": reason,
                "lead": lead,
                "created_at": now,
            },
        )
        with self.db.transaction() as conn:
            conn.execute(insert(consensus).values(**row))
            self._append(
                conn,
                review_id,
                lead,
                "consensus_set",
                criterion_id,
                before={"grade": before.value if before else None},
                after={"grade": grade.value, "reason": reason, "round": round_number},
                at=now,
            )
            found = conn.execute(select(consensus).where(consensus.c.id == row["id"])).one()
        return _consensus(found)

    def panel_rows(self, review_id: str) -> tuple[list[Assessment], list[Consensus]]:
        with self.db.connect() as conn:
            found = conn.execute(
                select(assessments)
                .where(assessments.c.review_id == review_id)
                .order_by(assessments.c.created_at, assessments.c.id)
            ).all()
            decided = conn.execute(
                select(consensus).where(consensus.c.review_id == review_id).order_by(consensus.c.created_at)
            ).all()
        return [_assessment(r) for r in found], [_consensus(r) for r in decided]

    def forget_panel(self, review_id: str, actor: str, deleted: dict[str, object]) -> None:
        """A deleted review's assessments go with it; the audit trail keeps a tombstone of who deleted what."""
        with self.db.transaction() as conn:
            conn.execute(delete(assessments).where(assessments.c.review_id == review_id))
            conn.execute(delete(consensus).where(consensus.c.review_id == review_id))
            self._append(conn, review_id, actor, "review_deleted", None, before=deleted, after=None, at=time.time())

    def record_event(
        self,
        review_id: str,
        actor: str,
        action: str,
        *,
        criterion_id: str | None = None,
        before: object = None,
        after: object = None,
    ) -> None:
        with self.db.transaction() as conn:
            self._append(conn, review_id, actor, action, criterion_id, before=before, after=after, at=time.time())

    def events(self, review_id: str, limit: int = 100, offset: int = 0) -> tuple[list[AuditEvent], int]:
        """The review's events, oldest first, and how many there are in all."""
        with self.db.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(audit_events).where(audit_events.c.review_id == review_id)
            ).scalar_one()
            rows = conn.execute(
                select(audit_events)
                .where(audit_events.c.review_id == review_id)
                .order_by(audit_events.c.id)
                .limit(limit)
                .offset(offset)
            ).all()
        return [
            AuditEvent(
                id=r.id,
                review_id=r.review_id,
                at=_when(r.at),
                actor=r.actor,
                action=r.action,
                criterion_id=r.criterion_id,
                before=json.loads(r.before) if r.before else None,
                after=json.loads(r.after) if r.after else None,
            )
            for r in rows
        ], total

    @staticmethod
    def _append(conn, review_id: str, actor: str, action: str, criterion_id: str | None, *, before, after, at) -> None:
        conn.execute(
            insert(audit_events).values(
                **bounded(
                    audit_events,
                    {
                        "review_id": review_id,
                        "at": at,
                        "actor": actor,
                        "action": action,
                        "criterion_id": criterion_id,
                        "before": None if before is None else json.dumps(before, default=str),
                        "after": None if after is None else json.dumps(after, default=str),
                    },
                )
            )
        )
