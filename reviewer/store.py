"""Persistence of review jobs and results (SQLAlchemy: SQLite by default, Postgres by URL) and of the
uploaded PDFs (files named by content hash)."""

import contextlib
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine

NO_MODEL = "-"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


metadata = MetaData()
reviews = Table(
    "reviews",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("file_name", String(255), nullable=False),
    Column("vendor_name", String(255)),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("rubric_name", String(128), nullable=False),
    Column("rubric_id", String(64), nullable=False),
    Column("rubric_version", String(32), nullable=False),
    Column("backend", String(32), nullable=False),
    Column("model", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(64)),
    Column("lease_until", Float),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("result", Text),
    Index("ix_reviews_status_created", "status", "created_at"),
    Index("ix_reviews_identity", "sha256", "rubric_id", "rubric_version", "backend", "model"),
)


batches = Table(
    "batches",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("rubric_name", String(128), nullable=False),
    Column("anonymize", Integer, nullable=False, default=0),
    Column("items", Text, nullable=False),  # JSON: [{"file_name", "job_id", "error"}]
)


notifications = Table(
    "notifications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("job_id", String(32), nullable=False, index=True),
    Column("channel", String(32), nullable=False),  # e.g. "slack"
    Column("target", Text, nullable=False),  # JSON: where to post
    Column("status", String(16), nullable=False),  # pending | sent | abandoned
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(64)),
    Column("lease_until", Float),
    Column("created_at", Float, nullable=False),
)


class Notification(BaseModel):
    id: str
    job_id: str
    channel: str
    target: dict
    attempts: int


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


class NewJob(BaseModel):
    """What a caller says about a review to queue."""

    file_name: str
    vendor_name: str | None = None
    sha256: str
    size_bytes: int
    rubric_name: str
    rubric_id: str
    rubric_version: str
    backend: str
    model: str


class JobRecord(NewJob):
    """A queued review as stored, with what the store adds: identity, status, lease and result."""

    id: str
    status: JobStatus
    created_at: float
    updated_at: float
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    claimed_by: str | None = None
    lease_until: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    result: str | None = None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class JobStore:
    """Every method is a short transaction; callers on an event loop run them in a thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)
        # SQLite lets one writer in at a time and makes the others sleep and retry (in steps of up to
        # 100 ms); queueing this process's writers on a lock instead keeps request latency even.
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def create(self, job: NewJob) -> JobRecord:
        now = time.time()
        row = {
            **job.model_dump(),
            "id": uuid.uuid4().hex,
            "status": JobStatus.QUEUED.value,
            "created_at": now,
            "updated_at": now,
            "attempts": 0,
        }
        with self._transaction() as conn:
            conn.execute(insert(reviews).values(**row))
        return JobRecord(**row)

    def get(self, job_id: str) -> JobRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(reviews).where(reviews.c.id == job_id)).mappings().first()
        return JobRecord(**row) if row else None

    def find_same(self, sha256: str, rubric_id: str, rubric_version: str, backend: str, model: str) -> JobRecord | None:
        """The newest live (queued, running or done) job for the same file under the same rubric version,
        backend and model."""
        query = (
            select(reviews)
            .where(
                reviews.c.sha256 == sha256,
                reviews.c.rubric_id == rubric_id,
                reviews.c.rubric_version == rubric_version,
                reviews.c.backend == backend,
                reviews.c.model == model,
                reviews.c.status != JobStatus.FAILED.value,
            )
            .order_by(reviews.c.created_at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return JobRecord(**row) if row else None

    def find_by_prefix(self, prefix: str, limit: int = 2) -> list[JobRecord]:
        """Jobs whose id starts with `prefix` (hex only), newest first: short ids people can type."""
        if not prefix or not all(c in "0123456789abcdef" for c in prefix):
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(reviews)
                .where(reviews.c.id.startswith(prefix))
                .order_by(reviews.c.created_at.desc())
                .limit(limit)
            ).mappings()
            return [JobRecord(**row) for row in rows]

    def statuses(self, job_ids: list[str]) -> dict[str, JobStatus]:
        """Current status of each job that still exists (deleted jobs are absent)."""
        found: dict[str, JobStatus] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(job_ids), 500):
                chunk = job_ids[start : start + 500]
                rows = conn.execute(select(reviews.c.id, reviews.c.status).where(reviews.c.id.in_(chunk)))
                found.update({row.id: JobStatus(row.status) for row in rows})
        return found

    def list_jobs(self, status: JobStatus | None, limit: int, offset: int) -> tuple[list[JobRecord], int]:
        where = reviews.c.status == status.value if status else True
        columns = [c for c in reviews.c if c.name != "result"]
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(reviews).where(where)).scalar_one()
            rows = conn.execute(
                select(*columns).where(where).order_by(reviews.c.created_at.desc()).limit(limit).offset(offset)
            ).mappings()
            return [JobRecord(**row) for row in rows], total

    @staticmethod
    def _claimable(now: float):
        """Queued, or running under a lease that expired (its worker died)."""
        return or_(
            reviews.c.status == JobStatus.QUEUED.value,
            and_(reviews.c.status == JobStatus.RUNNING.value, reviews.c.lease_until < now),
        )

    def _take(self, job_id: str, worker_id: str, lease_seconds: float, *conditions: object) -> JobRecord | None:
        """The guarded UPDATE that makes a claim atomic: of two racing claimers only one matches."""
        now = time.time()
        with self._transaction() as conn:
            claimed = conn.execute(
                update(reviews)
                .where(reviews.c.id == job_id, self._claimable(now), *conditions)
                .values(
                    status=JobStatus.RUNNING.value,
                    claimed_by=worker_id,
                    lease_until=now + lease_seconds,
                    started_at=now,
                    updated_at=now,
                    attempts=reviews.c.attempts + 1,
                )
            ).rowcount
        return self.get(job_id) if claimed == 1 else None

    def claim(self, worker_id: str, lease_seconds: float, max_attempts: int) -> JobRecord | None:
        """Atomically take the oldest claimable job that has attempts left."""
        under_limit = reviews.c.attempts < max_attempts
        for _ in range(3):  # another process may take the candidate first; then try the next one
            with self.engine.connect() as conn:
                candidate = conn.execute(
                    select(reviews.c.id)
                    .where(under_limit, self._claimable(time.time()))
                    .order_by(reviews.c.created_at)
                    .limit(1)
                ).scalar_one_or_none()
            if candidate is None:
                return None
            if (job := self._take(candidate, worker_id, lease_seconds, under_limit)) is not None:
                return job
        return None

    def claim_job(self, job_id: str, worker_id: str, lease_seconds: float) -> JobRecord | None:
        """Take one particular job (used by message-batch runs)."""
        return self._take(job_id, worker_id, lease_seconds)

    def fail_exhausted(self, max_attempts: int) -> int:
        """Jobs whose worker died on every attempt are failed, not retried for ever."""
        now = time.time()
        with self._transaction() as conn:
            return conn.execute(
                update(reviews)
                .where(reviews.c.attempts >= max_attempts, self._claimable(now))
                .values(
                    status=JobStatus.FAILED.value,
                    error_code="worker_died",
                    error_message=f"the review was interrupted {max_attempts} times and was given up",
                    finished_at=now,
                    updated_at=now,
                    claimed_by=None,
                )
            ).rowcount

    def _update_held(self, job_id: str, worker_id: str, **values: object) -> bool:
        """Change a job only while `worker_id` still holds it running (a worker that lost its lease
        can neither renew it nor record a result)."""
        with self._transaction() as conn:
            held = and_(
                reviews.c.id == job_id,
                reviews.c.claimed_by == worker_id,
                reviews.c.status == JobStatus.RUNNING.value,
            )
            return conn.execute(update(reviews).where(held).values(updated_at=time.time(), **values)).rowcount == 1

    def heartbeat(self, job_id: str, worker_id: str, lease_seconds: float) -> bool:
        return self._update_held(job_id, worker_id, lease_until=time.time() + lease_seconds)

    def _finish(self, job_id: str, worker_id: str, **values: object) -> bool:
        return self._update_held(
            job_id, worker_id, finished_at=time.time(), claimed_by=None, lease_until=None, **values
        )

    def complete(
        self,
        job_id: str,
        worker_id: str,
        result_json: str,
        vendor_name: str | None,
        rubric: tuple[str, str] | None = None,
    ) -> bool:
        """Store the result. `rubric` is the (id, version) the review actually used: a rubric file edited
        while the job waited is recorded as what graded it, so listings and deduplication tell the truth."""
        values: dict[str, object] = {"status": JobStatus.DONE.value, "result": result_json}
        if vendor_name:
            values["vendor_name"] = vendor_name
        if rubric:
            values["rubric_id"], values["rubric_version"] = rubric
        return self._finish(job_id, worker_id, **values)

    def fail(self, job_id: str, worker_id: str, code: str, message: str) -> bool:
        return self._finish(job_id, worker_id, status=JobStatus.FAILED.value, error_code=code, error_message=message)

    def release(self, job_id: str, worker_id: str) -> bool:
        """Give a job back to the queue (on shutdown), without counting the attempt against it."""
        return self._update_held(
            job_id,
            worker_id,
            status=JobStatus.QUEUED.value,
            claimed_by=None,
            lease_until=None,
            attempts=reviews.c.attempts - 1,
        )

    def delete(self, job_id: str) -> JobRecord | None:
        with self._transaction() as conn:
            row = conn.execute(select(reviews).where(reviews.c.id == job_id)).mappings().first()
            if row is None:
                return None
            conn.execute(delete(reviews).where(reviews.c.id == job_id))
        return JobRecord(**row)

    def create_batch(self, rubric_name: str, anonymize: bool, items: list[BatchItem]) -> BatchRecord:
        record = BatchRecord(
            id=uuid.uuid4().hex, created_at=time.time(), rubric_name=rubric_name, anonymize=anonymize, items=items
        )
        with self._transaction() as conn:
            conn.execute(
                insert(batches).values(
                    id=record.id,
                    created_at=record.created_at,
                    rubric_name=rubric_name,
                    anonymize=int(anonymize),
                    items=json.dumps([i.model_dump() for i in items]),
                )
            )
        return record

    def get_batch(self, batch_id: str) -> BatchRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(batches).where(batches.c.id == batch_id)).mappings().first()
        if row is None:
            return None
        return BatchRecord(
            id=row["id"],
            created_at=row["created_at"],
            rubric_name=row["rubric_name"],
            anonymize=bool(row["anonymize"]),
            items=json.loads(row["items"]),
        )

    def add_notification(self, job_id: str, channel: str, target: dict) -> None:
        with self._transaction() as conn:
            conn.execute(
                insert(notifications).values(
                    id=uuid.uuid4().hex,
                    job_id=job_id,
                    channel=channel,
                    target=json.dumps(target),
                    status="pending",
                    attempts=0,
                    created_at=time.time(),
                )
            )

    def claim_notifications(
        self, channel: str, worker_id: str, lease_seconds: float, max_attempts: int = 5
    ) -> list[tuple[Notification, JobRecord | None]]:
        """Pending notifications whose job has finished (or was deleted), each taken by one process only."""
        now = time.time()
        finished = select(reviews.c.id).where(reviews.c.status.in_([JobStatus.DONE.value, JobStatus.FAILED.value]))
        ready = and_(
            notifications.c.channel == channel,
            notifications.c.status == "pending",
            or_(notifications.c.lease_until.is_(None), notifications.c.lease_until < now),
            or_(notifications.c.job_id.in_(finished), notifications.c.job_id.not_in(select(reviews.c.id))),
        )
        taken = []
        with self._transaction() as conn:
            rows = conn.execute(select(notifications).where(ready).limit(20)).mappings().all()
            for row in rows:
                if row["attempts"] >= max_attempts:
                    conn.execute(
                        update(notifications).where(notifications.c.id == row["id"]).values(status="abandoned")
                    )
                    continue
                claimed = conn.execute(
                    update(notifications)
                    .where(notifications.c.id == row["id"], ready)
                    .values(
                        claimed_by=worker_id, lease_until=now + lease_seconds, attempts=notifications.c.attempts + 1
                    )
                ).rowcount
                if claimed:
                    taken.append(
                        Notification(
                            id=row["id"],
                            job_id=row["job_id"],
                            channel=row["channel"],
                            target=json.loads(row["target"]),
                            attempts=row["attempts"] + 1,
                        )
                    )
        return [(n, self.get(n.job_id)) for n in taken]

    def mark_sent(self, notification_id: str) -> None:
        with self._transaction() as conn:
            conn.execute(
                update(notifications)
                .where(notifications.c.id == notification_id)
                .values(status="sent", claimed_by=None, lease_until=None)
            )

    def references(self, sha256: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(reviews).where(reviews.c.sha256 == sha256)
            ).scalar_one()


class FileStore:
    """Uploaded PDFs, one file per content hash, written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.directory / f"{sha256}.pdf"

    def put(self, sha256: str, data: bytes) -> None:
        target = self.path(sha256)
        if target.exists():
            return
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)
