"""The review queue: jobs (one uploaded file under one rubric version, backend and model), their leases and
their results. Deduplication is atomic in the database: the live job of an identity holds its `dedup_key`,
unique in the table."""

import hashlib
import time
import uuid
from enum import StrEnum

from pydantic import BaseModel, Field
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from reviewer.store.db import Database, bounded, metadata

NO_MODEL = "-"
# Blind model input (issue 16) is part of a job's identity: a blind review and a sighted one of the same file are
# two jobs. The identity names it as this suffix of the model, as the model column did before migration 0006 gave
# it a column (`blind_input`), so the dedup keys of jobs queued before that migration still match.
BLIND_MARK = "+blind"


def _identity_model(model: str, blind: bool) -> str:
    return model + BLIND_MARK if blind else model


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


# A job in one of these will not change again: the one definition every shell waits on.
FINISHED_STATUSES: frozenset[JobStatus] = frozenset({JobStatus.DONE, JobStatus.FAILED})


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
    Column("blind_input", Boolean, nullable=False, default=False, server_default=false()),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(64)),
    Column("lease_until", Float),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("result", Text),
    # Set while the job is live (queued, running or done) and the newest of its identity; NULL otherwise.
    Column("dedup_key", String(64)),
    Index("ix_reviews_status_created", "status", "created_at"),
    Index("ix_reviews_identity", "sha256", "rubric_id", "rubric_version", "backend", "model"),
    Index("ux_reviews_dedup_key", "dedup_key", unique=True),
)


def dedup_key(sha256: str, rubric_id: str, rubric_version: str, backend: str, model: str, blind: bool = False) -> str:
    """The identity of a review as one fixed-length value: the same file under the same rubric version,
    backend, model and blindness gives the same review, so it is queued once."""
    identity = "\x1f".join((sha256, rubric_id, rubric_version, backend, _identity_model(model, blind)))
    return hashlib.sha256(identity.encode()).hexdigest()


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
    # Blind model input (reviewer/masking.py), the `blind_input` column (`blind` is a batch's blind panel).
    blind: bool = Field(default=False, exclude=True)

    def dedup_key(self) -> str:
        return dedup_key(self.sha256, self.rubric_id, self.rubric_version, self.backend, self.model, self.blind)

    def row(self) -> dict[str, object]:
        return {**self.model_dump(), "blind_input": self.blind}


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


def _record(row) -> JobRecord:
    values = {k: v for k, v in row.items() if k not in ("dedup_key", "blind_input")}
    return JobRecord(**values, blind=bool(row["blind_input"]))


_RACE_RETRIES = 5  # a dedup claim lost to another process is looked at again this many times


class JobQueue:
    """Review jobs. Every method is a short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, job: NewJob) -> JobRecord:
        """Queue `job` whatever else is queued (a forced re-review): it becomes the job its identity
        deduplicates to."""
        return self.create_or_get(job, force=True)[0]

    def create_or_get(self, job: NewJob, *, force: bool = False) -> tuple[JobRecord, bool]:
        """(job, created): the live job of the same identity if there is one, else a new queued job, decided
        atomically in the database (two processes queuing the same file at the same instant get one job).
        With `force`, a new job is queued anyway and takes over the identity."""
        key = job.dedup_key()
        for _ in range(_RACE_RETRIES):
            if not force and (existing := self._holder(key)) is not None:
                return existing, False
            now = time.time()
            row = bounded(
                reviews,
                {
                    **job.row(),
                    "id": uuid.uuid4().hex,
                    "status": JobStatus.QUEUED.value,
                    "created_at": now,
                    "updated_at": now,
                    "attempts": 0,
                    "dedup_key": key,
                },
            )
            try:
                with self.db.transaction() as conn:
                    if force:
                        conn.execute(update(reviews).where(reviews.c.dedup_key == key).values(dedup_key=None))
                    conn.execute(insert(reviews).values(**row))
            except IntegrityError:
                continue  # another process queued this identity between our look and our insert: look again
            return _record(row), True
        raise RuntimeError(f"could not queue or find the job for {job.file_name!r}: the database kept refusing")

    def _holder(self, key: str) -> JobRecord | None:
        with self.db.connect() as conn:
            row = conn.execute(select(reviews).where(reviews.c.dedup_key == key)).mappings().first()
        return _record(row) if row else None

    def get(self, job_id: str) -> JobRecord | None:
        with self.db.connect() as conn:
            row = conn.execute(select(reviews).where(reviews.c.id == job_id)).mappings().first()
        return _record(row) if row else None

    def find_same(
        self, sha256: str, rubric_id: str, rubric_version: str, backend: str, model: str, blind: bool = False
    ) -> JobRecord | None:
        """The live (queued, running or done) job for the same file under the same rubric version, backend,
        model and blindness: the newest one, which holds the identity's dedup key."""
        return self._holder(dedup_key(sha256, rubric_id, rubric_version, backend, model, blind))

    def find_by_prefix(self, prefix: str, limit: int = 2) -> list[JobRecord]:
        """Jobs whose id starts with `prefix` (hex only), newest first: short ids people can type."""
        if not prefix or not all(c in "0123456789abcdef" for c in prefix):
            return []
        with self.db.connect() as conn:
            rows = conn.execute(
                select(reviews)
                .where(reviews.c.id.startswith(prefix))
                .order_by(reviews.c.created_at.desc())
                .limit(limit)
            ).mappings()
            return [_record(row) for row in rows]

    def statuses(self, job_ids: list[str]) -> dict[str, JobStatus]:
        """Current status of each job that still exists (deleted jobs are absent)."""
        found: dict[str, JobStatus] = {}
        with self.db.connect() as conn:
            for start in range(0, len(job_ids), 500):
                chunk = job_ids[start : start + 500]
                rows = conn.execute(select(reviews.c.id, reviews.c.status).where(reviews.c.id.in_(chunk)))
                found.update({row.id: JobStatus(row.status) for row in rows})
        return found

    def list_jobs(self, status: JobStatus | None, limit: int, offset: int) -> tuple[list[JobRecord], int]:
        where = reviews.c.status == status.value if status else True
        columns = [c for c in reviews.c if c.name not in ("result", "dedup_key")]
        with self.db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(reviews).where(where)).scalar_one()
            rows = conn.execute(
                select(*columns).where(where).order_by(reviews.c.created_at.desc()).limit(limit).offset(offset)
            ).mappings()
            return [_record(row) for row in rows], total

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
        with self.db.transaction() as conn:
            claimed = conn.execute(
                update(reviews)
                .where(reviews.c.id == job_id, self._claimable(now), *conditions)
                .values(
                    **bounded(
                        reviews,
                        {
                            "status": JobStatus.RUNNING.value,
                            "claimed_by": worker_id,
                            "lease_until": now + lease_seconds,
                            "started_at": now,
                            "updated_at": now,
                        },
                    ),
                    attempts=reviews.c.attempts + 1,
                )
            ).rowcount
        return self.get(job_id) if claimed == 1 else None

    def claim(self, worker_id: str, lease_seconds: float, max_attempts: int) -> JobRecord | None:
        """Atomically take the oldest claimable job that has attempts left."""
        under_limit = reviews.c.attempts < max_attempts
        for _ in range(3):  # another process may take the candidate first; then try the next one
            with self.db.connect() as conn:
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
        with self.db.transaction() as conn:
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
                    dedup_key=None,
                )
            ).rowcount

    def _update_held(self, job_id: str, worker_id: str, **values: object) -> bool:
        """Change a job only while `worker_id` still holds it running (a worker that lost its lease
        can neither renew it nor record a result)."""
        with self.db.transaction() as conn:
            held = and_(
                reviews.c.id == job_id,
                reviews.c.claimed_by == bounded(reviews, {"claimed_by": worker_id})["claimed_by"],  # as stored
                reviews.c.status == JobStatus.RUNNING.value,
            )
            fitted = bounded(reviews, {"updated_at": time.time(), **values})
            return conn.execute(update(reviews).where(held).values(**fitted)).rowcount == 1

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
        if vendor_name:  # a name a person gave (at upload, or since) stays; the grader's fills only a blank
            values["vendor_name"] = func.coalesce(
                reviews.c.vendor_name, bounded(reviews, {"vendor_name": vendor_name})["vendor_name"]
            )
        if not rubric:
            return self._finish(job_id, worker_id, **values)
        values["rubric_id"], values["rubric_version"] = rubric
        job = self.get(job_id)
        if job is None or (job.rubric_id, job.rubric_version) == rubric:
            return self._finish(job_id, worker_id, **values)
        # The job is now the review of another identity: it takes that identity's key unless a live job holds it.
        new_key = dedup_key(job.sha256, *rubric, job.backend, job.model, job.blind)
        other = reviews.alias("other")
        free_key = case((~exists().where(other.c.dedup_key == new_key), new_key), else_=None)
        try:
            return self._finish(job_id, worker_id, **values, dedup_key=free_key)
        except IntegrityError:  # another process took the key between the check and the write
            return self._finish(job_id, worker_id, **values, dedup_key=None)

    def fail(self, job_id: str, worker_id: str, code: str, message: str) -> bool:
        return self._finish(
            job_id, worker_id, status=JobStatus.FAILED.value, error_code=code, error_message=message, dedup_key=None
        )

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

    def rename_vendor(self, job_id: str, vendor_name: str) -> JobRecord | None:
        """Give an existing review the vendor name a person sent with the same file again."""
        with self.db.transaction() as conn:
            conn.execute(
                update(reviews)
                .where(reviews.c.id == job_id)
                .values(**bounded(reviews, {"vendor_name": vendor_name}), updated_at=time.time())
            )
        return self.get(job_id)

    def delete(self, job_id: str) -> JobRecord | None:
        with self.db.transaction() as conn:
            row = conn.execute(select(reviews).where(reviews.c.id == job_id)).mappings().first()
            if row is None:
                return None
            conn.execute(delete(reviews).where(reviews.c.id == job_id))
        return _record(row)

    def references(self, sha256: str) -> int:
        with self.db.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(reviews).where(reviews.c.sha256 == sha256)
            ).scalar_one()
