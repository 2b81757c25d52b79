"""The one job runner: a bounded pool of workers on the event loop that claim jobs from the store,
run the core review, and record the result. The API, Slack and bulk review all run jobs here; the
Message-Batch path (`run_supplied`) hands the runner the backend's answers and the runner does the rest.
Blocking work (database, PDF extraction) runs in threads;
model calls are async. Any number of processes may share one database: claims are atomic, running
jobs hold a lease they renew, and a job whose worker died is claimed again once its lease expires."""

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_exponential

from reviewer.config import Settings
from reviewer.documents import Document, read_document_with
from reviewer.egress import egress_scope
from reviewer.errors import ReviewerError
from reviewer.extractor_pool import ExtractorPool
from reviewer.grading.base import GradingBackend, RawGrading, create_backend
from reviewer.masking import MaskedDocument, MaskingPolicy
from reviewer.pipeline import assemble_review, masked_input
from reviewer.queue.passwords import Passwords
from reviewer.redact import redact, secrets_of
from reviewer.review import Review
from reviewer.rubric import Rubric, RubricCatalog
from reviewer.store import NO_MODEL, FileStore, JobRecord, JobStore

log = logging.getLogger(__name__)

BackendFactory = Callable[[str, Settings], GradingBackend]


@dataclass(frozen=True)
class PreparedJob:
    """A claimed job with what grading it needs: its document, read once, its rubric, and the document as its
    backend may see it (masked: blind input, personal data redacted)."""

    job: JobRecord
    document: Document
    rubric: Rubric
    sent: MaskedDocument | None = None

    @property
    def model_document(self) -> Document:
        return self.sent.document if self.sent else self.document


class RecordingFailed(Exception):
    """A job's result could not be written to the store, even after retries."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def store_error_reason(exc: BaseException) -> str:
    """The exception's type and the database's own message, without the statement and its parameters
    (which carry the review, document text included)."""
    cause = getattr(exc, "orig", None) or exc
    return redact(f"{type(exc).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}")


# Given the prepared jobs, a supplier returns each job's answer by job id (a missing id fails that job).
AnswerSupplier = Callable[[list[PreparedJob]], Awaitable[dict[str, RawGrading]]]


class FinishSignals:
    """Events that fire when a job finishes in this process, so a waiting request answers at once
    instead of polling the store. A job another process runs fires nothing here: waiters still
    re-read the store now and then."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self._waiters: Counter[str] = Counter()

    @contextmanager
    def watch(self, job_id: str) -> Iterator[asyncio.Event]:
        """Register before reading the job's status, so a finish in between is not missed."""
        event = self._events.setdefault(job_id, asyncio.Event())
        self._waiters[job_id] += 1
        try:
            yield event
        finally:
            self._waiters[job_id] -= 1
            if not self._waiters[job_id]:
                del self._waiters[job_id]
                self._events.pop(job_id, None)

    def finished(self, job_id: str) -> None:
        if event := self._events.get(job_id):
            event.set()

    @property
    def watched(self) -> int:
        return len(self._events)


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        files: FileStore,
        settings: Settings,
        catalog: RubricCatalog,
        backend_factory: BackendFactory = create_backend,
    ) -> None:
        self.extractor = ExtractorPool(settings.ingest.processes, settings.ingest)
        self.store = store
        self.files = files
        self.settings = settings
        self.catalog = catalog
        self.backend_factory = backend_factory
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._wake = asyncio.Event()
        self.finish_signals = FinishSignals()
        self._tasks: list[asyncio.Task] = []
        self._started = False
        self._backends: dict[tuple[str, str], GradingBackend] = {}
        self.passwords = Passwords()  # encrypted PDFs' passwords, in memory only (see queue/passwords.py)

    def notify(self) -> None:
        """A job was queued: wake an idle worker now rather than at its next poll."""
        self._wake.set()

    async def start(self) -> None:
        await asyncio.to_thread(self.store.fail_exhausted, self.settings.jobs.max_attempts)
        await self.extractor.start()
        self._tasks = [
            asyncio.create_task(self._worker(f"{self.process_id}/{n}"), name=f"review-worker-{n}")
            for n in range(self.settings.jobs.workers)
        ]
        for task in self._tasks:
            task.add_done_callback(self._worker_ended)
        self._started = True
        log.info("started %d review workers as %s", len(self._tasks), self.process_id)

    async def stop(self) -> None:
        """Stop the workers; a job they were running goes back to the queue for the next start."""
        self._started = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.extractor.close()

    def workers_state(self) -> tuple[int, int] | None:
        """(running, started) worker tasks, or None when this process runs no workers."""
        if not self._started:
            return None
        return sum(not task.done() for task in self._tasks), len(self._tasks)

    def _worker_ended(self, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        if (exc := task.exception()) is not None:
            log.error("review worker %s stopped: %s", task.get_name(), exc, exc_info=exc)
        else:
            log.error("review worker %s stopped", task.get_name())

    async def _write(self, what: str, job_id: str, call: Callable[..., bool], *args: object) -> bool:
        """A store write for one job, in a thread, tried `store_write_attempts` times with a doubling wait
        (a locked SQLite, a dropped connection); raises the last error."""
        jobs = self.settings.jobs

        def retrying(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "review %s: recording its %s failed (attempt %d of %d: %s); retrying",
                job_id,
                what,
                state.attempt_number,
                jobs.store_write_attempts,
                store_error_reason(exc) if exc else "?",
            )

        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(jobs.store_write_attempts),
            wait=wait_exponential(multiplier=jobs.store_retry_seconds, max=max(jobs.store_retry_seconds, 30.0)),
            retry=retry_if_exception_type(Exception),
            before_sleep=retrying,
            reraise=True,
        ):
            with attempt:
                return await asyncio.to_thread(call, *args)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _worker(self, worker_id: str) -> None:
        while True:
            self._wake.clear()  # before claiming, so a job queued meanwhile wakes us at once
            try:
                job = await asyncio.to_thread(
                    self.store.claim, worker_id, self.settings.jobs.lease_seconds, self.settings.jobs.max_attempts
                )
                if job is None:
                    try:
                        async with asyncio.timeout(self.settings.jobs.poll_seconds):
                            await self._wake.wait()
                    except TimeoutError:
                        await asyncio.to_thread(self.store.fail_exhausted, self.settings.jobs.max_attempts)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:  # the store may be briefly unreachable; the worker must outlive that
                log.exception("the job store failed; retrying")
                await asyncio.sleep(self.settings.jobs.poll_seconds)
                continue
            heartbeat = asyncio.create_task(self._keep_lease(job.id, worker_id))
            try:
                await self._run(job, worker_id)
            except asyncio.CancelledError:
                try:
                    await asyncio.to_thread(self.store.release, job.id, worker_id)
                    log.info("review %s returned to the queue on shutdown", job.id)
                except Exception as exc:
                    log.warning("review %s: not returned to the queue (%s); its lease will", job.id, exc)
                raise
            except Exception:  # _run handles every failure it knows; this worker must outlive the rest
                log.exception("review %s: unexpected error in the worker; its lease will requeue it", job.id)
            finally:
                heartbeat.cancel()
            self.finish_signals.finished(job.id)

    async def _keep_lease(self, job_id: str, worker_id: str) -> None:
        lease = self.settings.jobs.lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            try:
                await asyncio.to_thread(self.store.heartbeat, job_id, worker_id, lease)
            except Exception as exc:
                log.warning("review %s: renewing its lease failed (%s)", job_id, store_error_reason(exc))

    def backend_for(self, name: str, model: str | None = None) -> GradingBackend:
        """The backend a job names (created once per name and model). Raises the backend's own
        configuration errors, so the API can refuse a job that could not run."""
        model = self.settings.model_for(name) if model in (None, NO_MODEL) else model
        key = (name, model)
        if key not in self._backends:
            settings = self.settings.with_model(model, name)
            self._backends[key] = self.backend_factory(name, settings)
        return self._backends[key]

    async def _prepare(self, job: JobRecord) -> PreparedJob:
        data = await asyncio.to_thread(self.files.get, job.sha256)
        try:
            document = await read_document_with(self.extractor, data, job.file_name, self.passwords.get(job.sha256))
        finally:
            self.passwords.release(job.sha256)  # read once: the password is not needed again
        rubric = self.catalog.load(job.rubric_name)
        backend = self.backend_for(job.backend, job.model)
        sent = await asyncio.to_thread(masked_input, document, rubric, backend, self.masking_for(job))
        return PreparedJob(job=job, document=document, rubric=rubric, sent=sent)

    def masking_for(self, job: JobRecord) -> MaskingPolicy:
        """Blind when the job was queued blind or the server is (REVIEWER_BLIND); the job's vendor name is masked."""
        return MaskingPolicy.from_settings(self.settings.grading, blind=job.blind, vendor_names=[job.vendor_name or ""])

    async def _fail(self, job: JobRecord, worker_id: str, code: str, message: str) -> bool:
        """Record the failure; never raises: a failure that cannot be recorded is logged, and the job's
        lease expires and requeues it (up to its attempts). The message is redacted: it may quote an upstream."""
        message = redact(message, secrets_of(self.settings))
        try:
            return await self._write("failure", job.id, self.store.fail, job.id, worker_id, code, message)
        except Exception as exc:
            log.error(
                "review %s: its failure (%s) could not be recorded (%s); the lease will requeue it",
                job.id,
                code,
                store_error_reason(exc),
            )
            return False

    async def _finish(self, prepared: PreparedJob, worker_id: str, raw: RawGrading, backend: GradingBackend) -> Review:
        """Verify and score the answer (the pipeline's one path), apply the job's vendor name, store it."""
        job = prepared.job
        review = await asyncio.to_thread(
            assemble_review,
            prepared.document,
            prepared.rubric,
            raw,
            backend=backend.name,
            offline=backend.offline,
            masked=prepared.sent,
        )
        if job.vendor_name:
            review = review.model_copy(update={"vendor_name": job.vendor_name})
        used = (review.rubric.id, review.rubric.version)
        if used != (job.rubric_id, job.rubric_version):
            log.warning(
                "review %s: rubric %s changed from %s v%s to %s v%s while the job was queued; graded with the new one",
                job.id,
                job.rubric_name,
                job.rubric_id,
                job.rubric_version,
                *used,
            )
        result = await asyncio.to_thread(review.model_dump_json)
        try:
            stored = await self._write(
                "result", job.id, self.store.complete, job.id, worker_id, result, review.vendor_name, used
            )
        except Exception as exc:
            raise RecordingFailed(store_error_reason(exc)) from exc
        if not stored:
            log.info("review %s: another worker had taken it over, result discarded", job.id)
        else:  # the audit trail's "AI graded"; a failure to record it must not undo the stored review
            graded = {
                "score": review.overall_score,
                "verdict": review.verdict.value,
                "red_flags": review.red_flag_count,
            }
            try:
                await asyncio.to_thread(
                    self.store.record_event, job.id, f"grader:{backend.name}", "ai_graded", after=graded
                )
            except Exception as exc:
                log.warning(
                    "review %s: the ai_graded audit event could not be recorded: %s", job.id, type(exc).__name__
                )
        return review

    async def _run(self, job: JobRecord, worker_id: str) -> None:
        started = time.perf_counter()
        log.info("review %s started (attempt %d)", job.id, job.attempts)
        try:
            prepared = await self._prepare(job)
            backend = self.backend_for(job.backend, job.model)
            with egress_scope(self.store, job.id):
                raw = await backend.grade(prepared.model_document, prepared.rubric)
            review = await self._finish(prepared, worker_id, raw, backend)
        except RecordingFailed as exc:
            log.error("review %s: its result could not be recorded (%s); failing it", job.id, exc.reason)
            await self._fail(job, worker_id, "store_error", "the review was done but its result could not be stored")
            return
        except ReviewerError as exc:
            await self._fail(job, worker_id, exc.code, exc.message)
            log.info("review %s failed: %s (%.2f s)", job.id, exc.code, time.perf_counter() - started)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("review %s failed with an internal error", job.id)
            await self._fail(job, worker_id, "internal_error", "the review failed with an internal error")
            return
        log.info("review %s done in %.2f s (%d model calls)", job.id, time.perf_counter() - started, review.usage.calls)

    async def run_supplied(
        self,
        job_ids: list[str],
        supply: AnswerSupplier,
        *,
        on_failure: Callable[[JobRecord, str, str], None] | None = None,
    ) -> None:
        """Run the given jobs with answers from `supply` instead of each backend's own calls (one Message
        Batch for all of them). The jobs are claimed, and their leases kept, for the whole run; each
        answer then goes through the same verification, scoring and recording as a worker's."""
        worker_id = f"{self.process_id}/supplied"
        lease = self.settings.jobs.lease_seconds
        claimed = [j for i in job_ids if (j := await asyncio.to_thread(self.store.claim_job, i, worker_id, lease))]
        if not claimed:
            return

        async def keep_leases() -> None:
            while True:
                await asyncio.sleep(lease / 3)
                for job in claimed:
                    await asyncio.to_thread(self.store.heartbeat, job.id, worker_id, lease)

        async def fail(job: JobRecord, code: str, message: str) -> None:
            await self._fail(job, worker_id, code, message)
            if on_failure:
                on_failure(job, code, message)

        leases = asyncio.create_task(keep_leases())
        try:
            prepared = []
            for job in claimed:
                try:
                    prepared.append(await self._prepare(job))
                except ReviewerError as exc:
                    await fail(job, exc.code, exc.message)
            if not prepared:
                return
            with egress_scope(self.store, *(item.job.id for item in prepared), purpose="message_batch"):
                answers = await supply(prepared)
            for item in prepared:
                raw = answers.get(item.job.id)
                if raw is None:
                    await fail(item.job, "no_answer", "the batch returned no answer for this review")
                    continue
                try:
                    await self._finish(item, worker_id, raw, self.backend_for(item.job.backend, item.job.model))
                except RecordingFailed as exc:
                    log.error("review %s: its result could not be recorded (%s)", item.job.id, exc.reason)
                    await fail(item.job, "store_error", "the review was done but its result could not be stored")
                self.finish_signals.finished(item.job.id)
        except asyncio.CancelledError:
            for job in claimed:
                await asyncio.to_thread(self.store.release, job.id, worker_id)
            raise
        finally:
            leases.cancel()
