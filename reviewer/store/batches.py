"""Batches: the files of one multi-file request (reviewed together, compared once all have finished)."""

import json
import time
import uuid
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import Column, Float, Integer, String, Table, Text, insert, select

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
    items: list[BatchItem]


class BatchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_batch(self, rubric_name: str, anonymize: bool, items: list[BatchItem]) -> BatchRecord:
        row = bounded(
            batches,
            {
                "id": uuid.uuid4().hex,
                "created_at": time.time(),
                "rubric_name": rubric_name,
                "anonymize": int(anonymize),
                "items": json.dumps([i.model_dump() for i in items]),
            },
        )
        with self.db.transaction() as conn:
            conn.execute(insert(batches).values(**row))
        return _record(row)

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
        items=json.loads(row["items"]),
    )
