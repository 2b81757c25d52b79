"""What each page shows, put together from the store and the panel service (the same reads the API makes),
as plain models the templates lay out. Blind panels: an evaluator sees labels, never vendor or file names."""

from datetime import UTC, datetime

from pydantic import BaseModel

from reviewer.comparison import Comparison, Entry, anonymize, build_comparison
from reviewer.egress import EgressLogView
from reviewer.errors import ReviewerError
from reviewer.queue.panel import PanelService
from reviewer.queue.results import entry_of, panel_of, vendor_for
from reviewer.render.failures import failure_reason
from reviewer.review import Grade, Review
from reviewer.rubric import RubricCatalog
from reviewer.store import BatchRecord, JobRecord, JobStatus, JobStore

GRADE_WORDS = {Grade.MET: "Met", Grade.PARTIAL: "Partial", Grade.MISSING: "Missing", Grade.RED_FLAG: "Red flag"}
SOURCE_WORDS = {"ai": "grader (unconfirmed)", "evaluator": "evaluator", "consensus": "lead's consensus"}


def when(ts: float | datetime) -> str:
    moment = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class Progress(BaseModel):
    total: int
    done: int = 0
    failed: int = 0
    running: int = 0
    queued: int = 0

    @property
    def finished(self) -> bool:
        return self.running == 0 and self.queued == 0

    @property
    def status(self) -> str:
        return "done" if self.finished else "running"


class EvaluationRow(BaseModel):
    kind: str  # "batch" or "review"
    id: str
    title: str
    rubric: str
    created_at: float
    vendors: int
    progress: Progress
    link: str


def _progress(statuses: list[JobStatus | None]) -> Progress:
    counts = Progress(total=len(statuses))
    for status in statuses:
        name = status.value if status else "failed"  # a deleted or never-queued file counts as failed
        setattr(counts, name, getattr(counts, name) + 1)
    return counts


def evaluations(store: JobStore, limit: int = 100) -> list[EvaluationRow]:
    """Batches and the reviews that belong to none, newest first."""
    records, _ = store.list_batches(limit=limit)
    in_batches = {item.job_id for record in records for item in record.items if item.job_id}
    statuses = store.statuses(sorted(in_batches))
    rows = [
        EvaluationRow(
            kind="batch",
            id=r.id,
            title=f"Evaluation of {len(r.items)} proposals" + (" (blind panel)" if r.blind else ""),
            rubric=r.rubric_name,
            created_at=r.created_at,
            vendors=len(r.items),
            progress=_progress([statuses.get(i.job_id) if i.job_id else None for i in r.items]),
            link=f"/web/batches/{r.id}",
        )
        for r in records
    ]
    jobs, _ = store.list_jobs(None, limit, 0)
    for job in jobs:
        if job.id in in_batches or store.in_blind_batch(job.id):
            continue
        rows.append(
            EvaluationRow(
                kind="review",
                id=job.id,
                title=vendor_for(job.file_name, job, None),
                rubric=job.rubric_name,
                created_at=job.created_at,
                vendors=1,
                progress=_progress([job.status]),
                link=f"/web/reviews/{job.id}",
            )
        )
    return sorted(rows, key=lambda row: row.created_at, reverse=True)


class ReviewPage(BaseModel):
    job: JobRecord
    vendor: str
    file_name: str
    review: Review | None
    grades: list[Grade]
    blind: bool
    failure: str | None = None
    egress: EgressLogView | None = None


def blinded(job: JobRecord, review: Review | None) -> tuple[JobRecord, Review | None]:
    """A blind panel evaluator's view: a label instead of the vendor, the file name and the file's hash
    (the same label GET /v1/reviews/{id} shows)."""
    label = f"Vendor {job.id[:6]}"
    job = job.model_copy(update={"vendor_name": label, "file_name": f"{label}.pdf", "sha256": "hidden"})
    if review is not None:
        document = review.document.model_copy(update={"file_name": job.file_name, "sha256": "hidden"})
        review = review.model_copy(update={"vendor_name": label, "document": document})
    return job, review


def review_page(
    store: JobStore, panel: PanelService, catalog: RubricCatalog, review_id: str, viewer: str, lead: bool
) -> ReviewPage | None:
    job = store.get(review_id)
    if job is None:
        return None
    blind = store.in_blind_batch(job.id)
    review = panel.final(job, viewer=viewer, lead=lead, blind=blind)
    if blind and not lead:
        job, review = blinded(job, review)
    grades = list(Grade)
    if review is not None:
        try:
            rubric = catalog.load(job.rubric_name)
            if rubric.id == review.rubric.id:
                grades = list(rubric.grades)
        except ReviewerError:
            pass
    failure = f"{failure_reason(job.error_code)}" if job.status is JobStatus.FAILED else None
    return ReviewPage(
        job=job,
        vendor=vendor_for(job.file_name, job, review),
        file_name=job.file_name,
        review=review,
        grades=grades,
        blind=blind,
        failure=failure,
        egress=EgressLogView.of(job.id, store.egress_of(job.id)),
    )


class ComparisonPage(BaseModel):
    record: BatchRecord
    progress: Progress
    comparison: Comparison | None
    links: dict[str, str]  # row key -> review page, where the viewer may follow it


def comparison_page(store: JobStore, catalog: RubricCatalog, batch_id: str, lead: bool) -> ComparisonPage | None:
    record = store.get_batch(batch_id)
    if record is None:
        return None
    entries: list[Entry] = []
    statuses: list[JobStatus | None] = []
    for item in record.items:
        job = store.get(item.job_id) if item.job_id else None
        statuses.append(job.status if job else None)
        panel = panel_of(store, job.id) if job else None
        entries.append(entry_of(job, item.file_name, missing=item.error or "the review was deleted", panel=panel))
    progress = _progress(statuses)
    if record.anonymize:
        blinded_entries, _ = anonymize(entries)
        # an evaluator's view cannot be joined back to the vendors: no review ids, except for the lead
        entries = [e if lead else e.model_copy(update={"review_id": None}) for e in blinded_entries]
    comparison = build_comparison(entries, catalog.load(record.rubric_name)) if progress.finished else None
    links = {}
    if comparison is not None:
        comparison = comparison.model_copy(update={"anonymized": record.anonymize})
        links = {row.key: f"/web/reviews/{row.review_id}" for row in comparison.rows if row.review_id}
    return ComparisonPage(record=record, progress=progress, comparison=comparison, links=links)
