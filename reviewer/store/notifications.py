"""The outbox: messages to post (e.g. to Slack) once a job has finished, each taken by one process only."""

import json
import time
import uuid
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import Column, Float, Integer, String, Table, Text, and_, insert, or_, select, update

from reviewer.store.db import Database, bounded, metadata
from reviewer.store.jobs import FINISHED_STATUSES, JobQueue, JobRecord, reviews


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    ABANDONED = "abandoned"  # its attempts ran out


notifications = Table(
    "notifications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("job_id", String(32), nullable=False, index=True),
    Column("channel", String(32), nullable=False),  # e.g. "slack"
    Column("target", Text, nullable=False),  # JSON: where to post
    Column("status", String(16), nullable=False),  # a NotificationStatus
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


class Outbox:
    def __init__(self, db: Database, jobs: JobQueue) -> None:
        self.db = db
        self.jobs = jobs

    def add_notification(self, job_id: str, channel: str, target: dict) -> None:
        row = {
            "id": uuid.uuid4().hex,
            "job_id": job_id,
            "channel": channel,
            "target": json.dumps(target),
            "status": NotificationStatus.PENDING.value,
            "attempts": 0,
            "created_at": time.time(),
        }
        with self.db.transaction() as conn:
            conn.execute(insert(notifications).values(**bounded(notifications, row)))

    def follow_up(self, job_id: str, extra: dict) -> int:
        """One more message to every place a job's outcome was posted (e.g. a clarification round's changes to
        the Slack thread the review went to): each first target of the job gets a copy of itself with `extra`.
        Returns how many were queued."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                select(notifications.c.channel, notifications.c.target)
                .where(notifications.c.job_id == job_id)
                .order_by(notifications.c.created_at)
            ).all()
            firsts: list[tuple[str, dict]] = []
            for channel, target in rows:
                place = json.loads(target)
                if set(place) & set(extra) or (channel, place) in firsts:
                    continue  # a follow-up itself, or a second request for the same place
                firsts.append((channel, place))
            now = time.time()
            for channel, place in firsts:
                row = {
                    "id": uuid.uuid4().hex,
                    "job_id": job_id,
                    "channel": channel,
                    "target": json.dumps({**place, **extra}),
                    "status": NotificationStatus.PENDING.value,
                    "attempts": 0,
                    "created_at": now,
                }
                conn.execute(insert(notifications).values(**bounded(notifications, row)))
        return len(firsts)

    def claim_notifications(
        self, channel: str, worker_id: str, lease_seconds: float, max_attempts: int = 5
    ) -> list[tuple[Notification, JobRecord | None]]:
        """Pending notifications whose job has finished (or was deleted), each taken by one process only."""
        now = time.time()
        finished = select(reviews.c.id).where(reviews.c.status.in_([s.value for s in FINISHED_STATUSES]))
        ready = and_(
            notifications.c.channel == channel,
            notifications.c.status == NotificationStatus.PENDING.value,
            or_(notifications.c.lease_until.is_(None), notifications.c.lease_until < now),
            or_(notifications.c.job_id.in_(finished), notifications.c.job_id.not_in(select(reviews.c.id))),
        )
        taken = []
        with self.db.transaction() as conn:
            rows = conn.execute(select(notifications).where(ready).limit(20)).mappings().all()
            for row in rows:
                if row["attempts"] >= max_attempts:
                    conn.execute(
                        update(notifications)
                        .where(notifications.c.id == row["id"])
                        .values(status=NotificationStatus.ABANDONED.value)
                    )
                    continue
                claimed = conn.execute(
                    update(notifications)
                    .where(notifications.c.id == row["id"], ready)
                    .values(
                        **bounded(notifications, {"claimed_by": worker_id, "lease_until": now + lease_seconds}),
                        attempts=notifications.c.attempts + 1,
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
        return [(n, self.jobs.get(n.job_id)) for n in taken]

    def mark_sent(self, notification_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                update(notifications)
                .where(notifications.c.id == notification_id)
                .values(status=NotificationStatus.SENT.value, claimed_by=None, lease_until=None)
            )
