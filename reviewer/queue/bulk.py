"""Bulk review: every proposal of an RFP reviewed under one rubric through the same intake, job store and
runner as the API, so a run is resumable and an interrupted run loses nothing that finished. Documents
are read one at a time and not held in memory."""

import asyncio
import hashlib
import zipfile
from collections.abc import Callable

from pydantic import BaseModel

from reviewer.comparison import Comparison, Entry, MandatoryPolicy
from reviewer.config import Settings
from reviewer.documents import check_document_bytes
from reviewer.errors import ReviewerError
from reviewer.grading.base import create_backend
from reviewer.progress import Progress
from reviewer.queue.intake import Intake, ReviewTarget
from reviewer.queue.results import evaluated_entry, evaluation_comparison, failed_entry, review_of
from reviewer.queue.rounds import round_views
from reviewer.queue.runner import BackendFactory, JobRunner
from reviewer.render.failures import failure_reason
from reviewer.rerun import store_fingerprint
from reviewer.review import Usage
from reviewer.rounds import RoundSummary
from reviewer.rubric import Rubric, RubricCatalog
from reviewer.sources import Source
from reviewer.store import FINISHED_STATUSES, FileStore, JobStatus, JobStore, make_engine


class BulkResult(BaseModel):
    entries: list[Entry]
    reviewed: int
    skipped: int
    failed: int
    usage: Usage
    proposals: dict[str, str] = {}  # source name -> sha256 of its bytes, for every source that could be read
    jobs: int = 0  # distinct documents queued or found already queued
    settled: str | None = None  # the store's fingerprint once the run had written all it writes


async def run_bulk(
    sources: list[Source],
    rubric_name: str,
    backend_name: str,
    settings: Settings,
    catalog: RubricCatalog,
    *,
    force: bool = False,
    vendors: dict[str, str] | None = None,
    backend_factory: BackendFactory = create_backend,
    progress: Progress | None = None,
    on_event: Callable[[str], None] | None = None,
    batch_api: bool = False,
    blind: bool = False,
) -> BulkResult:
    vendors = vendors or {}
    store = JobStore(make_engine(settings.storage.resolved_database_url))
    runner = JobRunner(store, FileStore(settings.storage.data_dir / "uploads"), settings, catalog, backend_factory)
    intake = Intake(runner)
    target = ReviewTarget.resolve(settings, catalog, runner, rubric_name, backend_name, blind=blind)

    job_of: dict[str, str] = {}  # source name -> job id
    proposals: dict[str, str] = {}  # source name -> content hash
    failures: dict[str, str] = {}
    first_of: dict[str, str] = {}  # content hash -> the first source name that carried it
    copies: dict[str, list[str]] = {}  # first source name -> every source name with the same content
    already_done: set[str] = set()
    if progress:
        progress.total = len(sources)
    usage = Usage()
    finished_failed = 0

    def fail(name: str, reason: str) -> None:
        failures[name] = reason
        copies.setdefault(name, [name])
        if progress:
            progress.advance(failed=True)
        if on_event:
            on_event(reason if reason.startswith(name) else f"{name}: {reason}")

    started = False  # workers (and their extractor processes) start with the first new job, never for a rerun
    try:
        for source in sources:
            try:
                data = await asyncio.to_thread(source.read, settings.ingest.max_file_bytes)
            except (ReviewerError, OSError, zipfile.BadZipFile) as exc:
                fail(source.name, exc.message if isinstance(exc, ReviewerError) else f"cannot read: {exc}")
                continue
            digest = hashlib.sha256(data).hexdigest()
            proposals[source.name] = digest
            if digest in first_of:  # the same document again (a folder and a zip): reviewed and reported once
                copies[first_of[digest]].append(source.name)
                if progress:
                    progress.advance()
                continue
            first_of[digest] = source.name
            copies[source.name] = [source.name]
            try:
                check_document_bytes(data, settings.ingest)
                job, deduplicated = await intake.enqueue(
                    data, source.name, target, vendor_name=vendors.get(source.name), force=force, actor="cli"
                )
            except ReviewerError as exc:
                fail(source.name, exc.message)
                continue
            job_of[source.name] = job.id
            if deduplicated and job.status is JobStatus.DONE:
                already_done.add(job.id)
            elif not batch_api and not started:
                await runner.start()  # on the first job to run, while the rest are still being queued
                started = True
            del data

        if batch_api:
            from reviewer.queue.message_batch import MessageBatchSupplier

            supply = MessageBatchSupplier(runner, settings, progress)
            await runner.run_supplied(
                [i for i in job_of.values() if i not in already_done],
                supply,
                on_failure=lambda job, code, _: on_event and on_event(f"{job.file_name}: {failure_reason(code)}"),
            )
            supply.forget()
        pending = set(job_of.values())
        while pending:
            statuses = await asyncio.to_thread(store.statuses, list(pending))
            finished = [i for i in pending if statuses.get(i) is None or statuses[i] in FINISHED_STATUSES]
            for job_id in finished:
                pending.discard(job_id)
                job = await asyncio.to_thread(store.get, job_id)
                failed = job is None or job.status is JobStatus.FAILED
                finished_failed += failed
                if job_id not in already_done and (review := review_of(job)) is not None:
                    usage += review.usage
                if progress:
                    progress.advance(
                        failed=failed,
                        extra=f"{usage.input_tokens + usage.output_tokens:,} tokens, ${usage.estimated_cost_usd:.2f}",
                    )
                if on_event and job is not None and failed:
                    on_event(f"{job.file_name}: {failure_reason(job.error_code)}")  # never the library's text
            if pending:
                await asyncio.sleep(0.2)
    finally:
        if started:
            await runner.stop()
        else:
            await runner.extractor.close()

    # The run writes nothing more: the store's files as they are now, once its connections are closed (so
    # SQLite's log is folded in), are what everything read from here on comes from (reviewer/rerun.py).
    store.engine.dispose()
    settled = store_fingerprint(settings.storage.resolved_database_url)
    entries = []
    for name, names in copies.items():
        vendor = next((vendors[n] for n in names if n in vendors), None)
        if name in failures:
            entry = failed_entry(name, failures[name], vendor=vendor)
        else:
            job = await asyncio.to_thread(store.get, job_of[name])
            entry = await asyncio.to_thread(evaluated_entry, store, job, name, vendor=vendor, missing="deleted")
            if entry.review is not None and entry.review.round > 1:  # its report shows what each round changed
                entry = entry.model_copy(update={"rounds": await asyncio.to_thread(round_summaries, store, job.id)})
            if vendor and entry.review is not None:  # a mapping given for any copy's name titles its report
                entry = entry.model_copy(update={"review": entry.review.model_copy(update={"vendor_name": vendor})})
        entries.append(entry.model_copy(update={"file_names": names}))
    store.engine.dispose()
    return BulkResult(
        entries=distinct_vendors(entries),
        reviewed=len(job_of) - len(already_done) - finished_failed,
        skipped=len(already_done),
        failed=len(failures) + finished_failed,
        usage=usage,
        proposals=proposals,
        jobs=len(job_of),
        settled=settled,
    )


def round_summaries(store: JobStore, review_id: str) -> list[RoundSummary]:
    """The review's rounds as its report shows them (the lead's view: bulk runs where the store is)."""
    fields = RoundSummary.model_fields.keys()
    return [RoundSummary(**{k: getattr(v, k) for k in fields}) for v in round_views(store, review_id)]


def bulk_comparison(
    settings: Settings,
    entries: list[Entry],
    rubric: Rubric,
    *,
    anonymized: bool = False,
    mandatory: MandatoryPolicy = "flag",
) -> Comparison:
    """The run's comparison with the panel's events on its reviews (the XLSX's Audit sheet), as the API's
    batches have it; `entries` as the outputs show them (anonymised or not)."""
    store = JobStore(make_engine(settings.storage.resolved_database_url))
    try:
        return evaluation_comparison(store, entries, rubric, anonymized=anonymized, mandatory=mandatory)
    finally:
        store.engine.dispose()


def distinct_vendors(entries: list[Entry]) -> list[Entry]:
    """Two proposals shown under one vendor name (acme_ai.pdf and acme-ai.pdf, or two proposals the
    grader read the same name in) each get their file's name beside it, so no row or evidence merges."""
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.vendor.casefold()] = counts.get(entry.vendor.casefold(), 0) + 1
    return [
        e.model_copy(update={"vendor": f"{e.vendor} ({e.file_name})"}) if counts[e.vendor.casefold()] > 1 else e
        for e in entries
    ]
