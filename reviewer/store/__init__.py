"""Persistence (SQLAlchemy: SQLite by default, PostgreSQL by URL), split by concern: the review queue
(`jobs`), `batches`, the Slack outbox (`notifications`), the `egress` log, uploaded files (`files`),
`retention`, the engine (`db`) and the schema's Alembic `migrations`, run on start. Import from here: these
names are the store's interface."""

from reviewer.store.batches import BatchItem, BatchRecord, BatchState, BatchStore
from reviewer.store.db import Database, bounded, fit_text, make_engine, metadata
from reviewer.store.egress import EgressLog
from reviewer.store.files import FileStore
from reviewer.store.job_store import JobStore
from reviewer.store.jobs import (
    FINISHED_STATUSES,
    NO_MODEL,
    JobQueue,
    JobRecord,
    JobStatus,
    NewJob,
    dedup_key,
)
from reviewer.store.notifications import Notification, NotificationStatus, Outbox
from reviewer.store.panel import AuditEvent, PanelStore
from reviewer.store.retention import ExpiredReview, ExpiredRound
from reviewer.store.rounds import RoundRecord, RoundStatus, RoundStore

__all__ = [
    "FINISHED_STATUSES",
    "NO_MODEL",
    "AuditEvent",
    "BatchItem",
    "BatchRecord",
    "BatchState",
    "BatchStore",
    "Database",
    "EgressLog",
    "ExpiredReview",
    "ExpiredRound",
    "FileStore",
    "JobQueue",
    "JobRecord",
    "JobStatus",
    "JobStore",
    "NewJob",
    "Notification",
    "NotificationStatus",
    "Outbox",
    "PanelStore",
    "RoundRecord",
    "RoundStatus",
    "RoundStore",
    "bounded",
    "dedup_key",
    "fit_text",
    "make_engine",
    "metadata",
]
