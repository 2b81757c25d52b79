"""Batches: the files of one multi-file request (reviewed together, compared once all have finished)."""

import json
import time
import uuid
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import Column, Float, Integer, String, Table, Text, func, insert, select

from reviewer.store.db import Database, bounded, metadata


class BatchState(StrEnum):
    """A batch is not stored with a status: it is running until every job in it has finished."""

    RUNNING = "running"
    DONE = "done"


batches = Table(
    "batches",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("rubric_name", String(128), nullable=False),
    Column("anonymize", Integer, nullable=False, default=0),
    Column(
        "blind", Integer, nullable=False, default=0, server_default="0"
    ),  # blind panel: labels, and grades hidden until submitted
    Column("items", Text, nullable=False),  # JSON: [{"file_name", "job_id", "error"}]
)


class BatchItem(BaseModel):
    file_name: str
    job_id: str | None = None
    error: str | None = None


class BatchRecord(BaseModel):
    id: str
    created_at: float
    rubric_name: str
    anonymize: bool
    blind: bool = False
    items: list[BatchItem]


class BatchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_batch(
        self, rubric_name: str, anonymize: bool, items: list[BatchItem], *, blind: bool = False
    ) -> BatchRecord:
        row = bounded(
            batches,
            {
                "id": uuid.uuid4().hex,
                "created_at": time.time(),
                "rubric_name": rubric_name,
                "anonymize": int(anonymize or blind),
                "blind": int(blind),
                "items": json.dumps([i.model_dump() for i in items]),
            },
        )
        with self.db.transaction() as conn:
            conn.execute(insert(batches).values(**row))
        return _record(row)

    def in_blind_batch(self, job_id: str) -> bool:
        """Whether the job is one of a blind panel's (its items are JSON: the id is matched in the text)."""
        with self.db.connect() as conn:
            return (
                conn.execute(
                    select(batches.c.id)
                    .where(batches.c.blind == 1, batches.c["items"].contains(f'"{job_id}"'))
                    .limit(1)
                ).first()
                is not None
            )

    def list_batches(self, limit: int = 50, offset: int = 0) -> tuple[list[BatchRecord], int]:
        """Batches, newest first, and how many there are."""
        with self.db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(batches)).scalar_one()
            rows = conn.execute(
                select(batches).order_by(batches.c.created_at.desc()).limit(limit).offset(offset)
            ).mappings()
            return [_record(row) for row in rows], total

    def get_batch(self, batch_id: str) -> BatchRecord | None:
        with self.db.connect() as conn:
            row = conn.execute(select(batches).where(batches.c.id == batch_id)).mappings().first()
        return _record(row) if row else None


def _record(row) -> BatchRecord:
    return BatchRecord(
        id=row["id"],
        created_at=row["created_at"],
        rubric_name=row["rubric_name"],
        anonymize=bool(row["anonymize"]),
        blind=bool(row["blind"]),
        items=json.loads(row["items"]),
    )
