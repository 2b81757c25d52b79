"""/v1/batches: every proposal of an RFP uploaded at once, reviewed under one rubric, and compared."""

import asyncio
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from reviewer.api.deps import CatalogDep, EvaluatorDep, IntakeDep, RunnerDep, SettingsDep, StoreDep
from reviewer.api.errors import ApiError
from reviewer.api.schemas import error_responses
from reviewer.api.uploads import read_upload
from reviewer.comparison import Comparison, Entry, MandatoryPolicy, anonymize, build_comparison, redact
from reviewer.errors import ReviewerError
from reviewer.queue.intake import ReviewTarget
from reviewer.queue.results import audit_lines, entry_of, panel_of
from reviewer.render import comparison as render
from reviewer.render import compliance
from reviewer.store import BatchItem, BatchRecord, JobStatus, JobStore

router = APIRouter(prefix="/v1/batches", tags=["batches"])
MAX_FILES = 100

# As `reviewer bulk --mandatory`: the same policy, applied by the same build_comparison.
MandatoryQuery = Annotated[
    MandatoryPolicy,
    Query(
        description="a proposal failing a mandatory RFP requirement: flagged in the ranking (default) or "
        "excluded from it; the download links carry the choice"
    ),
]


class BatchCounts(BaseModel):
    total: int
    queued: int
    running: int
    done: int
    failed: int


class BatchItemView(BaseModel):
    """One uploaded file of a batch. Under `anonymize`: its blind label for a name, no job id, and names
    removed from its error, so the evaluator's view cannot be joined back to the vendors."""

    item: int = Field(description="the file's number in this batch, from 1 (in label order when anonymised)")
    file_name: str
    job_id: str | None = Field(default=None, description="the review's id; withheld when anonymised")
    error: str | None = None


class BatchStatus(BaseModel):
    id: str
    status: Literal["running", "done"]
    rubric: str
    anonymized: bool
    counts: BatchCounts
    items: list[BatchItemView]
    comparison: Comparison | None = None
    downloads: dict[str, str]


def _entries(store: JobStore, record: BatchRecord) -> tuple[list[Entry], BatchCounts]:
    counts = {s: 0 for s in JobStatus}
    entries = []
    for item in record.items:
        job = store.get(item.job_id) if item.job_id else None
        counts[job.status if job else JobStatus.FAILED] += 1
        panel = panel_of(store, job.id) if job else None
        entries.append(entry_of(job, item.file_name, missing=item.error or "the review was deleted", panel=panel))
    return entries, BatchCounts(
        total=len(record.items),
        queued=counts[JobStatus.QUEUED],
        running=counts[JobStatus.RUNNING],
        done=counts[JobStatus.DONE],
        failed=counts[JobStatus.FAILED],
    )


def _blind(record: BatchRecord, entries: list[Entry], *, lead: bool = False) -> tuple[list[Entry], list[BatchItemView]]:
    """The evaluator's view of an anonymised batch: entries and items under 'Vendor A, B, ...' (assigned in
    file-name order, by `anonymize`), items without job ids, file and vendor names removed from errors.
    A lead evaluator's items keep their job ids (a blind panel's lead hands reviews out by id; GET
    /v1/reviews/{id} masks names for its evaluators); the label -> vendor mapping is not shown here."""
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


async def _status(
    store: JobStore, catalog, record: BatchRecord, *, lead: bool = False, mandatory: MandatoryPolicy = "flag"
) -> BatchStatus:
    entries, counts = await asyncio.to_thread(_entries, store, record)
    finished = counts.queued == 0 and counts.running == 0
    if record.anonymize:
        entries, items = _blind(record, entries, lead=lead)
    else:
        items = [BatchItemView(item=n, **item.model_dump()) for n, item in enumerate(record.items, start=1)]
    comparison = None
    if finished:
        audit = await asyncio.to_thread(audit_lines, store, entries)
        if record.anonymize:  # the panel's audit is read by id; the evaluator's view carries none
            entries = [entry.model_copy(update={"review_id": None}) for entry in entries]
        comparison = build_comparison(entries, catalog.load(record.rubric_name), mandatory=mandatory).model_copy(
            update={"anonymized": record.anonymize, "audit": audit}
        )
    base = f"/v1/batches/{record.id}/comparison"
    query = "" if mandatory == "flag" else f"?mandatory={mandatory}"
    return BatchStatus(
        id=record.id,
        status="done" if finished else "running",
        rubric=record.rubric_name,
        anonymized=record.anonymize,
        counts=counts,
        items=items,
        comparison=comparison,
        downloads={fmt: f"{base}.{fmt}{query}" for fmt in ("csv", "xlsx", "html", "md")}
        | (
            {f"compliance_{fmt}": f"/v1/batches/{record.id}/compliance.{fmt}{query}" for fmt in ("csv", "xlsx")}
            if comparison is not None and compliance.is_rfp_rubric(comparison)
            else {}
        ),
    )


@router.post(
    "",
    status_code=202,
    response_model=BatchStatus,
    responses=error_responses(404, 408, 413, 422),
    summary="Upload several proposals; each is reviewed, then all are compared",
)
async def create_batch(
    files: list[UploadFile],
    settings: SettingsDep,
    store: StoreDep,
    intake: IntakeDep,
    runner: RunnerDep,
    catalog: CatalogDep,
    evaluator: EvaluatorDep,
    rubric: Annotated[str, Form()] = "default",
    backend: Annotated[str | None, Form()] = None,
    anonymize: Annotated[bool, Form(description="'Vendor A, B, ...' in the comparison")] = False,
    blind: Annotated[
        bool, Form(description="blind panel: labels for evaluators, and others' grades hidden until one submits")
    ] = False,
    force: Annotated[bool, Query()] = False,
    mandatory: MandatoryQuery = "flag",
) -> JSONResponse:
    if len(files) > MAX_FILES:
        raise ApiError(422, "too_many_files", f"at most {MAX_FILES} files per batch")
    target = ReviewTarget.resolve(settings, catalog, runner, rubric, backend)
    items = []
    for upload in files:
        name = upload.filename or "proposal.pdf"
        try:
            data = await read_upload(upload, settings.ingest.max_file_bytes)
            job, _ = await intake.enqueue(data, name, target, force=force, actor=evaluator.name)
            items.append(BatchItem(file_name=job.file_name, job_id=job.id))
        except (ReviewerError, ApiError) as exc:  # one bad file does not stop the others
            items.append(BatchItem(file_name=name, error=f"{exc.code}: {exc.message}"))
    record = await asyncio.to_thread(store.create_batch, target.rubric_name, anonymize, items, blind=blind)
    status = await _status(store, catalog, record, lead=evaluator.lead, mandatory=mandatory)
    return JSONResponse(status.model_dump(mode="json"), status_code=202)


async def _batch_or_404(store: JobStore, batch_id: str) -> BatchRecord:
    record = await asyncio.to_thread(store.get_batch, batch_id)
    if record is None:
        raise ApiError(404, "not_found", f"no batch with id '{batch_id}'")
    return record


@router.get(
    "/{batch_id}",
    response_model=BatchStatus,
    responses=error_responses(404),
    summary="Progress, and the comparison once every review has finished",
)
async def get_batch(
    batch_id: str, store: StoreDep, catalog: CatalogDep, evaluator: EvaluatorDep, mandatory: MandatoryQuery = "flag"
) -> BatchStatus:
    record = await _batch_or_404(store, batch_id)
    return await _status(store, catalog, record, lead=evaluator.lead, mandatory=mandatory)


@router.get(
    "/{batch_id}/compliance.{fmt}",
    responses=error_responses(404, 409),
    summary="The compliance matrix (a rubric taken from an RFP): csv or xlsx",
)
async def download_compliance(
    batch_id: str,
    fmt: Literal["csv", "xlsx"],
    store: StoreDep,
    catalog: CatalogDep,
    evaluator: EvaluatorDep,
    mandatory: MandatoryQuery = "flag",
) -> Response:
    record = await _batch_or_404(store, batch_id)
    status = await _status(store, catalog, record, lead=evaluator.lead, mandatory=mandatory)
    if status.comparison is None:
        raise ApiError(409, "not_ready", f"{status.counts.queued + status.counts.running} reviews are still running")
    if not compliance.is_rfp_rubric(status.comparison):
        raise ApiError(
            404, "not_found", "this batch's rubric has no RFP requirements, so there is no compliance matrix"
        )
    disposition = {"Content-Disposition": f'attachment; filename="compliance-{batch_id}.{fmt}"'}
    if fmt == "csv":
        text = compliance.to_csv(status.comparison)
        return PlainTextResponse(text, media_type="text/csv; charset=utf-8", headers=disposition)
    xlsx = await asyncio.to_thread(compliance.to_xlsx, status.comparison)
    return Response(
        xlsx, headers=disposition, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


@router.get(
    "/{batch_id}/comparison.{fmt}",
    responses=error_responses(404, 409),
    summary="The comparison as a download: csv, xlsx, html or md",
)
async def download_comparison(
    batch_id: str,
    fmt: Literal["csv", "xlsx", "html", "md"],
    store: StoreDep,
    catalog: CatalogDep,
    mandatory: MandatoryQuery = "flag",
) -> Response:
    status = await _status(store, catalog, await _batch_or_404(store, batch_id), mandatory=mandatory)
    if status.comparison is None:
        raise ApiError(409, "not_ready", f"{status.counts.queued + status.counts.running} reviews are still running")
    c = status.comparison
    disposition = {"Content-Disposition": f'attachment; filename="comparison-{batch_id}.{fmt}"'}
    if fmt == "csv":
        return PlainTextResponse(render.to_csv(c), media_type="text/csv; charset=utf-8", headers=disposition)
    if fmt == "md":
        return PlainTextResponse(render.to_markdown(c), media_type="text/markdown; charset=utf-8", headers=disposition)
    if fmt == "html":
        return HTMLResponse(render.to_html(c))
    xlsx = await asyncio.to_thread(render.to_xlsx, c)
    return Response(
        xlsx, headers=disposition, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
