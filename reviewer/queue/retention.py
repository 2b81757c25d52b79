"""Retention (REVIEWER_RETENTION_DAYS), for every shell: delete the reviews older than the keeping time, with
their clarification rounds, the panel's grades, and the stored files no kept review or round still names;
the audit trail keeps a `review_deleted` tombstone for each. `reviewer purge` runs it once; the server runs
it at start-up and every day (`purge_periodically`).

"Older than N days" is measured from a review's last activity (reviewer.store.retention): when it finished,
or later when a clarification round was opened or graded or an evaluator assessed it. Queued and running
reviews are never deleted. A file is removed under the file store's lock, after its reviews are gone and
only when nothing names it any more, so a purge racing a new upload of the same file keeps it."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from reviewer.store import ExpiredReview, FileStore, JobStore

log = logging.getLogger(__name__)

DAY_SECONDS = 86_400.0
ACTOR = "retention"


class PurgedReview(BaseModel):
    id: str
    file_name: str
    status: str
    last_activity: datetime


class PurgedFile(BaseModel):
    sha256: str
    size_bytes: int


class PurgeReport(BaseModel):
    """What a purge deleted (or, with `dry_run`, would delete)."""

    days: int
    cutoff: datetime = Field(description="reviews whose last activity is before this are deleted")
    dry_run: bool
    reviews: list[PurgedReview] = Field(default_factory=list)
    rounds: int = Field(default=0, description="clarification rounds deleted with their reviews, or left orphaned")
    files: list[PurgedFile] = Field(default_factory=list)
    batches: int = Field(default=0, description="batches none of whose reviews remain")

    @property
    def freed_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class RetentionService:
    def __init__(self, store: JobStore, files: FileStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store, self.files, self.clock = store, files, clock

    def purge(self, days: int, *, dry_run: bool = False, actor: str = ACTOR) -> PurgeReport:
        """Delete what is older than `days` (at least 1). Blocking: call it in a thread from an event loop."""
        if days < 1:
            raise ValueError("retention needs at least one day")
        now = self.clock()
        cutoff = now - days * DAY_SECONDS
        report = PurgeReport(days=days, cutoff=_when(cutoff), dry_run=dry_run)
        expired = self.store.expired_reviews(cutoff)
        orphans = self.store.orphan_rounds(cutoff)
        candidates: dict[str, None] = {}  # file hashes in the order met, each once
        if dry_run:
            purged = expired
            report.rounds = sum(len(r.round_files) for r in expired) + len(orphans)
        else:
            purged = [r for r in expired if self.store.purge_review(r, cutoff, actor, now)]
            report.rounds = sum(len(r.round_files) for r in purged)
            report.rounds += sum(1 for o in orphans if self.store.purge_orphan_round(o))
        for review in purged:
            candidates.update(dict.fromkeys([review.sha256, *review.round_files]))
        candidates.update(dict.fromkeys(o.sha256 for o in orphans))
        report.reviews = [_purged(r) for r in purged]
        going = {r.id for r in purged} | {o.review_id for o in orphans}
        report.files = [f for sha in candidates if (f := self._remove_file(sha, going, dry_run)) is not None]
        batches = self.store.expired_batches(cutoff, going if dry_run else frozenset())
        if dry_run:
            report.batches = len(batches)
        else:
            report.batches = sum(1 for batch in batches if self.store.delete_batch(batch))
        return report

    def _remove_file(self, sha256: str, going: set[str], dry_run: bool) -> PurgedFile | None:
        """The file, removed unless a review or round that stays still names it (decided under its lock)."""
        path = self.files.path(sha256)
        if dry_run:
            if not path.exists() or self.store.file_holders(sha256) - going:
                return None
            return PurgedFile(sha256=sha256, size_bytes=path.stat().st_size)
        size = path.stat().st_size if path.exists() else None
        if not self.files.discard(sha256, lambda: bool(self.store.file_holders(sha256))) or size is None:
            return None
        return PurgedFile(sha256=sha256, size_bytes=size)


def _purged(review: ExpiredReview) -> PurgedReview:
    return PurgedReview(
        id=review.id, file_name=review.file_name, status=review.status, last_activity=_when(review.finished_at)
    )


async def purge_periodically(
    purge: Callable[[], PurgeReport],
    *,
    interval_seconds: float = DAY_SECONDS,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Run `purge` in a thread now and then every `interval_seconds`, until cancelled. A purge that fails is
    logged and tried again at the next interval: retention never stops a server."""
    while True:
        try:
            report = await asyncio.to_thread(purge)
        except Exception:
            log.exception("retention purge failed; trying again in %.0f s", interval_seconds)
        else:
            log.info(
                "retention: deleted %d reviews, %d rounds, %d files (%d bytes), %d batches older than %d days",
                len(report.reviews),
                report.rounds,
                len(report.files),
                report.freed_bytes,
                report.batches,
                report.days,
            )
        await sleep(interval_seconds)
