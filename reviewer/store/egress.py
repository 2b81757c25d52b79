"""The egress log (issue 16): one row per request a model backend sent, with its size and the SHA-256 of its
body, never the body. Written by the request hook (reviewer.egress) before the request goes out; read per
review. Rows are only ever added here."""

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, insert, select

from reviewer.egress import EgressRecord
from reviewer.store.db import Database, bounded, metadata

egress = Table(
    "egress",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("review_id", String(32)),  # NULL: a request for no review (an RFP's requirements)
    Column("at", Float, nullable=False),
    Column("provider", String(32), nullable=False),
    Column("host", String(255), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(512), nullable=False),
    Column("model", String(128)),
    Column("purpose", String(32), nullable=False),
    Column("bytes_sent", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Index("ix_egress_review", "review_id", "id"),
)


class EgressLog:
    """Mixed into JobStore."""

    db: Database

    def record_egress(self, records: list[EgressRecord]) -> None:
        if not records:
            return
        with self.db.transaction() as conn:
            rows = [bounded(egress, {**r.model_dump(), "at": r.at.timestamp()}) for r in records]
            conn.execute(insert(egress), rows)

    def egress_of(self, review_id: str) -> list[EgressRecord]:
        """The review's requests, oldest first."""
        with self.db.connect() as conn:
            rows = conn.execute(select(egress).where(egress.c.review_id == review_id).order_by(egress.c.id)).mappings()
            return [
                EgressRecord.model_validate(
                    {**{k: v for k, v in row.items() if k != "id"}, "at": datetime.fromtimestamp(row["at"], UTC)}
                )
                for row in rows
            ]
