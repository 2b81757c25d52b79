"""Batches: every proposal of an RFP queued under one rubric through the intake, and read back as progress,
items and, once every review has finished, the comparison. The API and the web app both go through here,
so a batch looks the same (and is as blind) wherever it is read."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import BaseModel, Field

from reviewer.comparison import Comparison, Entry, MandatoryPolicy, anonymize, redact
from reviewer.errors import ReviewerError
from reviewer.queue.blind import blind_text
from reviewer.queue.intake import Intake, ReviewTarget
from reviewer.queue.proposal import ProposalPages
from reviewer.queue.results import evaluated_entry, evaluation_comparison
from reviewer.rubric import RubricCatalog
from reviewer.store import BatchItem, BatchRecord, JobStatus, JobStore


class BatchCounts(BaseModel):
    total: int
    queued: int = 0
    running: int = 0
    done: int = 0
    failed: int = 0

    @property
    def finished(self) -> bool:
        return self.queued == 0 and self.running == 0


class BatchItemView(BaseModel):
    """One uploaded file of a batch. Under `anonymize`: its blind label for a name, no job id, and names
    removed from its error, so the evaluator's view cannot be joined back to the vendors."""

    item: int = Field(description="the file's number in this batch, from 1 (in label order when anonymised)")
    file_name: str
    job_id: str | None = Field(default=None, description="the review's id; withheld when anonymised")
    error: str | None = None


class BatchView(BaseModel):
    """What one viewer may see of a batch: counts, items and (every review finished) the comparison."""

    record: BatchRecord
    counts: BatchCounts
    items: list[BatchItemView]
    comparison: Comparison | None = None


def count_statuses(statuses: list[JobStatus | None]) -> BatchCounts:
    """A deleted or never-queued file counts as failed."""
    counts = BatchCounts(total=len(statuses))
    for status in statuses:
        name = (status or JobStatus.FAILED).value
        setattr(counts, name, getattr(counts, name) + 1)
    return counts


def batch_entries(
    store: JobStore, record: BatchRecord, blind_viewer: str | None = None
) -> tuple[list[Entry], BatchCounts]:
    entries, statuses = [], []
    for item in record.items:
        job = store.get(item.job_id) if item.job_id else None
        statuses.append(job.status if job else None)
        missing = item.error or "the review was deleted"
        entries.append(evaluated_entry(store, job, item.file_name, missing=missing, blind_viewer=blind_viewer))
    return entries, count_statuses(statuses)


def _blind(record: BatchRecord, entries: list[Entry], *, lead: bool) -> tuple[list[Entry], list[BatchItemView]]:
    """The evaluator's view of an anonymised batch: entries and items under 'Vendor A, B, ...' (assigned in
    file-name order, by `anonymize`), file and vendor names removed from errors. A lead's items keep their
    job ids (a blind panel's lead hands reviews out by id); the label -> vendor mapping is not shown here."""
    blinded, _ = anonymize(entries)
    order = sorted(range(len(entries)), key=lambda i: entries[i].file_name)  # anonymize's order
    views, items = [], []
    for number, (index, entry) in enumerate(zip(order, blinded, strict=True), start=1):
        original = entries[index]
        hidden = sorted(
            {n for name in (original.file_name, *original.file_names) for n in (name, Path(name).stem) if n},
            key=len,
            reverse=True,
        )
        error = redact(entry.error, hidden, entry.vendor)
        views.append(entry.model_copy(update={"error": error}))
        intake_error = error if record.items[index].error else None
        job_id = record.items[index].job_id if lead else None
        items.append(BatchItemView(item=number, file_name=entry.file_name, job_id=job_id, error=intake_error))
    return views, items


def _masked_words(store: JobStore, pages: ProposalPages, record: BatchRecord, entries: list[Entry]) -> list[Entry]:
    """Each entry's review with the vendor's words masked as a blind panel's evaluator reads them elsewhere
    (reviewer.queue.blind: the files read again, every name and identifying string a placeholder)."""
    masked = []
    for item, entry in zip(record.items, entries, strict=True):
        job = store.get(item.job_id) if item.job_id and entry.review is not None else None
        if job is not None and entry.review is not None:
            records = store.rounds_of(job.id)
            entry = entry.model_copy(
                update={"review": blind_text(pages, job, records).review(entry.review, job, records)}
            )
        masked.append(entry)
    return masked


def batch_view(
    store: JobStore,
    catalog: RubricCatalog,
    record: BatchRecord,
    *,
    lead: bool,
    mandatory: MandatoryPolicy = "flag",
    pages: ProposalPages | None = None,
    viewer: str | None = None,
) -> BatchView:
    """The batch as `lead` (or not) may see it. Anonymised: every name masked, and review ids withheld from
    all but the lead, who hands the reviews out; on a blind panel, an evaluator other than the lead also
    reads the vendors' words masked (with `pages`, the reviewed files). `mandatory`: a proposal failing a
    mandatory RFP requirement is flagged in the ranking or excluded from it. Raises the rubric's error when
    its file is gone. `viewer`: who reads it; on a blind panel, an evaluator other than the lead sees another
    evaluator's grade of a criterion (in the matrix and the Audit sheet) only once they submitted their own."""
    blind_viewer = (viewer or "") if record.blind and not lead else None  # nobody named: nobody has submitted
    entries, counts = batch_entries(store, record, blind_viewer)
    if record.blind and not lead and pages is not None:
        entries = _masked_words(store, pages, record, entries)
    if record.anonymize:
        entries, items = _blind(record, entries, lead=lead)
    else:
        items = [BatchItemView(item=n, **item.model_dump()) for n, item in enumerate(record.items, start=1)]
    comparison = None
    if counts.finished:
        comparison = evaluation_comparison(  # the panel's audit is read by id; the evaluator's view carries none
            store,
            entries,
            catalog.load(record.rubric_name),
            anonymized=record.anonymize,
            mandatory=mandatory,
            withhold_ids=record.anonymize and not lead,
            blind_viewer=blind_viewer,
        )
    return BatchView(record=record, counts=counts, items=items, comparison=comparison)


class IncomingFile(BaseModel):
    """One file of a new batch, as a shell read it: its bytes, or why it could not be read."""

    name: str
    data: bytes = b""
    vendor_name: str | None = None
    error: str | None = None  # "code: message", e.g. a file over the upload limit


async def queue_batch(
    intake: Intake,
    store: JobStore,
    target: ReviewTarget,
    files: AsyncIterator[IncomingFile],
    *,
    actor: str,
    anonymize: bool = False,
    blind: bool = False,
    force: bool = False,
) -> BatchRecord:
    """Queue every file (one bad file does not stop the others; it becomes an item with its error) and
    record the batch. Files are taken one at a time, so a shell need not hold them all in memory."""
    items = []
    async for incoming in files:
        if incoming.error is not None:
            items.append(BatchItem(file_name=incoming.name, error=incoming.error))
            continue
        try:
            job, _ = await intake.enqueue(
                incoming.data, incoming.name, target, vendor_name=incoming.vendor_name, force=force, actor=actor
            )
            items.append(BatchItem(file_name=job.file_name, job_id=job.id))
        except ReviewerError as exc:
            items.append(BatchItem(file_name=incoming.name, error=f"{exc.code}: {exc.message}"))
    return await asyncio.to_thread(store.create_batch, target.rubric_name, anonymize, items, blind=blind)
