"""Clarification rounds, for every shell: attach a vendor's answer to a finished review, grade the proposal
and every answer so far together (the review's own rubric, backend and model, through the job runner's
backend), and list the rounds with what changed per criterion.

A round is graded in the process that opened it: the API starts it as a background task (`start`), the
CLI awaits `grade`. A round whose process stopped before finishing it is failed after
STALE_ROUND_SECONDS (reviewer.store.rounds), so the next answer can be attached."""

import asyncio
import hashlib
import logging
from datetime import UTC, datetime

from pydantic import Field

from reviewer.assessment import final_review
from reviewer.config import Settings
from reviewer.documents import Document, check_document_bytes, read_document, safe_file_name
from reviewer.egress import egress_scope
from reviewer.errors import ReviewerError
from reviewer.pipeline import review_document
from reviewer.queue.results import panel_of, review_of, round_review
from reviewer.queue.runner import JobRunner
from reviewer.review import Review
from reviewer.rounds import (
    CombinedDocument,
    RoundSummary,
    attribute_citations,
    combine_documents,
    distinct_name,
    round_changes,
)
from reviewer.store import FileStore, JobRecord, JobStatus, JobStore, RoundRecord, RoundStatus

log = logging.getLogger(__name__)


class RoundView(RoundSummary):
    """One round as shells show it; round 1 is the review itself. Scores, verdicts and changes are of each
    round's final grades (what the panel decided on that round; the grader's where nobody assessed it)."""

    status: RoundStatus
    created_at: datetime
    finished_at: datetime | None = None
    opened_by: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    review: Review | None = Field(default=None, description="The round's review with its final grades.")


def _when(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None


async def read_round_document(
    files: FileStore, settings: Settings, job: JobRecord, records: list[RoundRecord], number: int
) -> CombinedDocument:
    """What round `number` (2 or later) is graded on: the proposal, then the answer of every done round
    before it, then its own answer."""

    async def read(sha256: str, file_name: str) -> Document:
        data = await asyncio.to_thread(files.get, sha256)
        return await asyncio.to_thread(read_document, data, file_name, limits=settings.ingest)

    parts = [r for r in records if r.number < number and r.status is RoundStatus.DONE]
    parts += [r for r in records if r.number == number]
    original = await read(job.sha256, job.file_name)
    return combine_documents(original, [await read(r.sha256, r.file_name) for r in parts])


class RoundService:
    def __init__(self, store: JobStore, files: FileStore, runner: JobRunner) -> None:
        self.store, self.files, self.runner = store, files, runner
        self.settings = runner.settings
        self._tasks: set[asyncio.Task] = set()

    def _finished_job(self, review_id: str) -> JobRecord:
        job = self.store.get(review_id)
        if job is None:
            raise ReviewerError(f"no review with id '{review_id}'", code="not_found")
        if job.status is not JobStatus.DONE or not job.result:
            raise ReviewerError(
                f"the review is {job.status.value}; a clarification round can be opened once it is done",
                code="not_ready",
            )
        return job

    async def open(self, review_id: str, data: bytes, file_name: str, actor: str) -> RoundRecord:
        """Keep the answer file and queue the next round. Raises not_found, not_ready (the review is not done,
        or a round of it is still being graded) or the ingest error for bytes that are no PDF or .docx."""
        job = await asyncio.to_thread(self._finished_job, review_id)
        check_document_bytes(data, self.settings.ingest)
        sha256 = hashlib.sha256(data).hexdigest()
        earlier = await asyncio.to_thread(self.store.rounds_of, review_id)
        taken = {job.file_name, *(r.file_name for r in earlier)}
        number = (earlier[-1].number if earlier else 1) + 1
        name = distinct_name(safe_file_name(file_name or "answer.pdf"), taken, number)
        opened = await asyncio.to_thread(
            self.files.put_for, sha256, data, lambda: self.store.open_round(review_id, sha256, name, actor)
        )
        if opened is None:
            raise ReviewerError(
                "a clarification round of this review is still being graded; attach the next answer once it is done",
                code="not_ready",
            )
        return opened

    def start(self, opened: RoundRecord) -> None:
        """Grade the round in the background of this process."""
        task = asyncio.create_task(self.grade(opened), name=f"round-{opened.review_id}-{opened.number}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _grade_review(self, job: JobRecord, opened: RoundRecord) -> Review:
        records = await asyncio.to_thread(self.store.rounds_of, job.id)
        if all(r.number != opened.number for r in records):
            records.append(opened)
        combined = await read_round_document(self.files, self.settings, job, records, opened.number)
        rubric = self.runner.catalog.load(job.rubric_name)
        backend = self.runner.backend_for(job.backend, job.model)
        masking = self.runner.masking_for(job)  # as blind, and as redacted, as the review it continues
        document = combined.document
        if masking.blind:  # named as the proposal, so the vendor is found from its file's name as in round 1
            document = document.model_copy(update={"file_name": job.file_name})
        with egress_scope(self.store, job.id, purpose="clarification_round"):
            graded = await review_document(document, rubric, backend, masking=masking)
        if masking.blind:
            shown = graded.document.model_copy(update={"file_name": combined.document.file_name})
            graded = graded.model_copy(update={"document": shown})
        review = attribute_citations(graded, combined)
        update: dict[str, object] = {"round": opened.number}
        if job.vendor_name:
            update["vendor_name"] = job.vendor_name
        return review.model_copy(update=update)

    async def grade(self, opened: RoundRecord) -> RoundRecord:
        """Grade a queued round and record its review (or its error); returns the round as stored."""
        review_id, number = opened.review_id, opened.number
        if not await asyncio.to_thread(self.store.start_round, review_id, number):
            return await asyncio.to_thread(self.store.get_round, review_id, number) or opened
        error: tuple[str, str] | None = None
        result, summary = None, {}
        try:
            job = await asyncio.to_thread(self._finished_job, review_id)
            review = await self._grade_review(job, opened)
            result = await asyncio.to_thread(review.model_dump_json)
            summary = {"overall_score": review.overall_score, "verdict": review.verdict.value}
        except asyncio.CancelledError:
            await asyncio.to_thread(
                self.store.finish_round, review_id, number, opened.opened_by, error=("interrupted", "shut down")
            )
            raise
        except ReviewerError as exc:
            error = (exc.code, exc.message)
        except Exception:
            log.exception("round %d of review %s failed with an internal error", number, review_id)
            error = ("internal_error", "the round failed with an internal error")
        finished = await asyncio.to_thread(
            self.store.finish_round,
            review_id,
            number,
            opened.opened_by,
            result_json=result,
            error=error,
            summary=summary,
        )
        if finished:  # the review's Slack thread (or any place its outcome went) hears of the round
            await asyncio.to_thread(self.store.follow_up, review_id, {"round": number})
        return await asyncio.to_thread(self.store.get_round, review_id, number) or opened

    def rounds(
        self,
        review_id: str,
        *,
        with_reviews: bool = False,
        viewer: str | None = None,
        lead: bool = True,
        blind: bool = False,
    ) -> list[RoundView]:
        """Every round of a review (see round_views)."""
        return round_views(self.store, review_id, with_reviews=with_reviews, viewer=viewer, lead=lead, blind=blind)


def round_views(
    store: JobStore,
    review_id: str,
    *,
    with_reviews: bool = False,
    viewer: str | None = None,
    lead: bool = True,
    blind: bool = False,
) -> list[RoundView]:
    """Every round of a review, oldest first, each done round with its changes since the last done round
    before it. Every round counts with the panel's final grades of that round as `viewer` may see them
    (None: the lead's full view); a round nobody assessed, with its grader's grades."""
    job = store.get(review_id)
    if job is None:
        raise ReviewerError(f"no review with id '{review_id}'", code="not_found")
    first = review_of(job)
    panel = panel_of(store, review_id)
    if viewer is not None:
        panel = panel.visible_to(viewer, blind=blind, lead=lead)
    first_final = final_review(first, panel) if first else None
    views = [
        RoundView(
            number=1,
            file_name=job.file_name,
            status=RoundStatus(job.status.value),
            created_at=_when(job.created_at),
            finished_at=_when(job.finished_at),
            error_code=job.error_code,
            error_message=job.error_message,
            overall_score=first_final.overall_score if first_final else None,
            verdict=first_final.verdict if first_final else None,
            review=first_final if with_reviews else None,
        )
    ]
    last_done = (1, first_final) if first_final else None
    for record in store.rounds_of(review_id):
        view = RoundView(
            number=record.number,
            file_name=record.file_name,
            status=record.status,
            created_at=_when(record.created_at),
            finished_at=_when(record.finished_at),
            opened_by=record.opened_by,
            error_code=record.error_code,
            error_message=record.error_message,
        )
        graded = round_review(job, record)
        if graded is not None:
            review = final_review(graded, panel)
            view.overall_score, view.verdict = review.overall_score, review.verdict
            if with_reviews:
                view.review = review
            if last_done is not None:
                number, previous = last_done
                view.compared_with = number
                view.changes = round_changes(previous, review, answer_document=record.file_name)
                if previous.overall_score is not None and review.overall_score is not None:
                    view.score_change = round(review.overall_score - previous.overall_score, 1)
            last_done = (record.number, review)
        views.append(view)
    return views
