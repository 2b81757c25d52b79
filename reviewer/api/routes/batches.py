"""/v1/batches: every proposal of an RFP uploaded at once, reviewed under one rubric, and compared."""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel

from reviewer.api.deps import CatalogDep, EvaluatorDep, IntakeDep, ProposalsDep, RunnerDep, SettingsDep, StoreDep
from reviewer.api.errors import ApiError
from reviewer.api.schemas import error_responses
from reviewer.api.uploads import read_upload
from reviewer.comparison import Comparison, MandatoryPolicy
from reviewer.queue.batches import BatchCounts, BatchItemView, IncomingFile, batch_view, queue_batch
from reviewer.queue.intake import ReviewTarget
from reviewer.queue.proposal import ProposalPages
from reviewer.render import comparison as render
from reviewer.render import compliance
from reviewer.store import BatchRecord, JobStore

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


class BatchStatus(BaseModel):
    id: str
    status: Literal["running", "done"]
    rubric: str
    anonymized: bool
    counts: BatchCounts
    items: list[BatchItemView]
    comparison: Comparison | None = None
    downloads: dict[str, str]


async def _status(
    store: JobStore,
    catalog,
    record: BatchRecord,
    *,
    lead: bool = False,
    mandatory: MandatoryPolicy = "flag",
    pages: ProposalPages | None = None,
    viewer: str | None = None,
) -> BatchStatus:
    view = await asyncio.to_thread(
        batch_view, store, catalog, record, lead=lead, mandatory=mandatory, pages=pages, viewer=viewer
    )
    comparison, counts = view.comparison, view.counts
    base = f"/v1/batches/{record.id}/comparison"
    query = "" if mandatory == "flag" else f"?mandatory={mandatory}"
    return BatchStatus(
        id=record.id,
        status="done" if counts.finished else "running",
        rubric=record.rubric_name,
        anonymized=record.anonymize,
        counts=counts,
        items=view.items,
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
    blind_input: Annotated[
        bool,
        Form(
            description="blind model input for every file (as `blind` on POST /v1/reviews): names, emails, phone "
            "numbers and URLs are replaced by placeholders before a document is sent to a model"
        ),
    ] = False,
    force: Annotated[bool, Query()] = False,
    mandatory: MandatoryQuery = "flag",
) -> JSONResponse:
    if len(files) > MAX_FILES:
        raise ApiError(422, "too_many_files", f"at most {MAX_FILES} files per batch")
    target = ReviewTarget.resolve(settings, catalog, runner, rubric, backend, blind=blind_input)

    async def read_each() -> AsyncIterator[IncomingFile]:
        for upload in files:
            name = upload.filename or "proposal.pdf"
            try:
                yield IncomingFile(name=name, data=await read_upload(upload, settings.ingest.max_file_bytes))
            except ApiError as exc:
                yield IncomingFile(name=name, error=f"{exc.code}: {exc.message}")

    record = await queue_batch(
        intake, store, target, read_each(), actor=evaluator.name, anonymize=anonymize, blind=blind, force=force
    )
    status = await _status(store, catalog, record, lead=evaluator.lead, mandatory=mandatory, viewer=evaluator.name)
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
    batch_id: str,
    store: StoreDep,
    catalog: CatalogDep,
    proposals: ProposalsDep,
    evaluator: EvaluatorDep,
    mandatory: MandatoryQuery = "flag",
) -> BatchStatus:
    record = await _batch_or_404(store, batch_id)
    return await _status(
        store, catalog, record, lead=evaluator.lead, mandatory=mandatory, pages=proposals, viewer=evaluator.name
    )


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
    proposals: ProposalsDep,
    evaluator: EvaluatorDep,
    mandatory: MandatoryQuery = "flag",
) -> Response:
    record = await _batch_or_404(store, batch_id)
    status = await _status(
        store, catalog, record, lead=evaluator.lead, mandatory=mandatory, pages=proposals, viewer=evaluator.name
    )
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
    proposals: ProposalsDep,
    evaluator: EvaluatorDep,
    mandatory: MandatoryQuery = "flag",
) -> Response:
    """As the evaluator sees the batch: on a blind panel, labels, the vendors' words masked and other
    evaluators' grades hidden until one submits, unless they lead; labels on an anonymised batch."""
    record = await _batch_or_404(store, batch_id)
    status = await _status(
        store, catalog, record, lead=evaluator.lead, mandatory=mandatory, pages=proposals, viewer=evaluator.name
    )
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
