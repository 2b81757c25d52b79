"""What the Evaluations (home) and comparison pages show, from the store and the core's batch view: plain
models the templates lay out. A blind or anonymised batch names no vendor to anyone but its lead."""

import contextlib
from datetime import UTC, date, datetime, time
from typing import Literal

from pydantic import BaseModel

from reviewer.comparison import MandatoryPolicy
from reviewer.queue.batches import BatchCounts, BatchView, batch_view, count_statuses
from reviewer.queue.proposal import ProposalPages
from reviewer.queue.results import vendor_for
from reviewer.render.compliance import is_rfp_rubric
from reviewer.rubric import RubricCatalog
from reviewer.store import BatchRecord, JobRecord, JobStore

Status = Literal["running", "done", "failed"]
STATUSES: tuple[Status, ...] = ("running", "done", "failed")
LIST_LIMIT = 200


def status_of(counts: BatchCounts) -> Status:
    if not counts.finished:
        return "running"
    return "failed" if counts.total and counts.done == 0 else "done"


class RowProgress(BaseModel):
    """A row's progress as the page's script reads it (GET /web/evaluations/progress.json)."""

    status: Status
    counts: BatchCounts


class EvaluationRow(BaseModel):
    kind: Literal["batch", "review"]
    id: str
    title: str
    rubric: str
    created_at: float
    vendors: int
    vendor_names: list[str]  # empty where the viewer may not see them (blind panels, anonymised batches)
    progress: RowProgress
    link: str


class Filters(BaseModel):
    """The home page's GET form; every field optional, an unusable value ignored (never an error page)."""

    status: Status | None = None
    rubric: str | None = None
    vendor: str | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_query(cls, query: dict[str, str]) -> "Filters":
        values: dict[str, object] = {}
        if query.get("status") in STATUSES:
            values["status"] = query["status"]
        for text in ("rubric", "vendor"):
            if (given := (query.get(text) or "").strip()[:200]) != "":
                values[text] = given
        for day in ("since", "until"):
            with contextlib.suppress(ValueError):
                values[day] = date.fromisoformat(query.get(day) or "")
        return cls.model_validate(values)

    @property
    def active(self) -> bool:
        return any(v is not None for v in self.model_dump().values())

    def keeps(self, row: EvaluationRow) -> bool:
        created = datetime.fromtimestamp(row.created_at, UTC)
        return (
            (self.status is None or row.progress.status == self.status)
            and (self.rubric is None or row.rubric == self.rubric)
            and (self.vendor is None or any(self.vendor.casefold() in n.casefold() for n in row.vendor_names))
            and (self.since is None or created >= datetime.combine(self.since, time.min, UTC))
            and (self.until is None or created <= datetime.combine(self.until, time.max, UTC))
        )


def _progress(counts: BatchCounts) -> RowProgress:
    return RowProgress(status=status_of(counts), counts=counts)


def _batch_row(record: BatchRecord, jobs: dict[str, JobRecord], store: JobStore, lead: bool) -> EvaluationRow:
    found = [jobs.get(i.job_id) or store.get(i.job_id) if i.job_id else None for i in record.items]
    counts = count_statuses([job.status if job else None for job in found])
    hidden = record.anonymize and not lead
    names = [] if hidden else [vendor_for(i.file_name, job, None) for i, job in zip(record.items, found, strict=True)]
    return EvaluationRow(
        kind="batch",
        id=record.id,
        title=f"Evaluation of {len(record.items)} proposal{'s' if len(record.items) != 1 else ''}"
        + (" (blind panel)" if record.blind else ""),
        rubric=record.rubric_name,
        created_at=record.created_at,
        vendors=len(record.items),
        vendor_names=names,
        progress=_progress(counts),
        link=f"/web/batches/{record.id}",
    )


def _review_row(job: JobRecord) -> EvaluationRow:
    vendor = vendor_for(job.file_name, job, None)
    return EvaluationRow(
        kind="review",
        id=job.id,
        title=vendor,
        rubric=job.rubric_name,
        created_at=job.created_at,
        vendors=1,
        vendor_names=[vendor],
        progress=_progress(count_statuses([job.status])),
        link=f"/web/reviews/{job.id}",
    )


def evaluations(store: JobStore, lead: bool, limit: int = LIST_LIMIT) -> list[EvaluationRow]:
    """Batches and the reviews that belong to none, newest first."""
    records, _ = store.list_batches(limit=limit)
    jobs_list, _ = store.list_jobs(None, limit * 5, 0)
    jobs = {job.id: job for job in jobs_list}
    in_batches = {item.job_id for record in records for item in record.items if item.job_id}
    rows = [_batch_row(record, jobs, store, lead) for record in records]
    for job in jobs_list[:limit]:
        if job.id in in_batches or store.in_blind_batch(job.id):
            continue
        rows.append(_review_row(job))
    return sorted(rows, key=lambda row: row.created_at, reverse=True)


def progress_of(store: JobStore, batch_ids: list[str], review_ids: list[str]) -> dict[str, RowProgress]:
    """The live part of the home page: each row's status and counts, by its id (unknown ids are absent)."""
    found: dict[str, RowProgress] = {}
    records = [r for r in (store.get_batch(i) for i in batch_ids[:LIST_LIMIT]) if r is not None]
    job_ids = sorted({item.job_id for r in records for item in r.items if item.job_id} | set(review_ids[:LIST_LIMIT]))
    statuses = store.statuses(job_ids)
    for record in records:
        found[record.id] = _progress(
            count_statuses([statuses.get(i.job_id) if i.job_id else None for i in record.items])
        )
    for review_id in review_ids[:LIST_LIMIT]:
        if review_id in statuses:
            found[review_id] = _progress(count_statuses([statuses[review_id]]))
    return found


class ComparisonPage(BaseModel):
    view: BatchView
    status: Status
    links: dict[str, str]  # row key -> review page, where the viewer may follow it
    mandatory: MandatoryPolicy = "flag"

    @property
    def from_rfp(self) -> bool:
        """The rubric was taken from an RFP: the page offers the compliance matrix and the mandatory policy."""
        return self.comparison is not None and is_rfp_rubric(self.comparison)

    @property
    def query(self) -> str:
        """What the download links carry so they match the page."""
        return "" if self.mandatory == "flag" else f"?mandatory={self.mandatory}"

    @property
    def record(self) -> BatchRecord:
        return self.view.record

    @property
    def progress(self) -> BatchCounts:
        return self.view.counts

    @property
    def comparison(self):
        return self.view.comparison


def comparison_page(
    store: JobStore,
    catalog: RubricCatalog,
    batch_id: str,
    lead: bool,
    mandatory: MandatoryPolicy = "flag",
    pages: ProposalPages | None = None,
    viewer: str | None = None,
) -> ComparisonPage | None:
    """The batch as the API shows it to this viewer (the same core view), with links to the reviews the
    viewer may open. `mandatory`: a proposal failing a mandatory RFP requirement is flagged in the ranking or
    left out of it. Raises the rubric's error when the batch's rubric file was removed since."""
    record = store.get_batch(batch_id)
    if record is None:
        return None
    view = batch_view(store, catalog, record, lead=lead, mandatory=mandatory, pages=pages, viewer=viewer)
    links = {}
    if view.comparison is not None:
        links = {row.key: f"/web/reviews/{row.review_id}" for row in view.comparison.rows if row.review_id}
    return ComparisonPage(view=view, status=status_of(view.counts), links=links, mandatory=mandatory)
