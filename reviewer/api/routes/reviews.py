"""/v1/reviews: upload a proposal, follow its review, read the report, delete it."""

import asyncio
import hashlib
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from reviewer.api.deps import CatalogDep, FilesDep, RunnerDep, SettingsDep, StoreDep
from reviewer.api.errors import ApiError, error_body, status_for_code
from reviewer.api.schemas import ErrorResponse, ReviewJob, ReviewPage
from reviewer.documents import check_pdf_bytes, safe_file_name
from reviewer.grading.base import resolve_backend_name
from reviewer.render.html import render_html
from reviewer.render.markdown import render_markdown
from reviewer.review import Review
from reviewer.store import NO_MODEL, JobRecord, JobStatus, NewJob

router = APIRouter(prefix="/v1/reviews", tags=["reviews"])

FINISHED = {JobStatus.DONE, JobStatus.FAILED}
ERRORS = {status: {"model": ErrorResponse} for status in (401, 404, 413, 415, 422)}


async def _read_upload(file: UploadFile, max_bytes: int) -> bytes:
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError(413, "too_large", f"the file is over the limit of {max_bytes / 1_048_576:.1f} MB")
    return data


async def _wait_until_finished(store, job: JobRecord, seconds: float) -> JobRecord:
    deadline = time.monotonic() + seconds
    while job.status not in FINISHED and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        job = await asyncio.to_thread(store.get, job.id) or job
    return job


def _finished_response(job: JobRecord, *, deduplicated: bool = False) -> JSONResponse:
    if job.status is JobStatus.FAILED and job.error_code:
        status = status_for_code(job.error_code)
        return JSONResponse(error_body(job.error_code, job.error_message or "", review_id=job.id), status_code=status)
    body = ReviewJob.from_record(job, deduplicated=deduplicated).model_dump(mode="json")
    return JSONResponse(body, status_code=200 if job.status in FINISHED else 202)


@router.post(
    "",
    status_code=202,
    response_model=ReviewJob,
    responses={200: {"model": ReviewJob, "description": "done (wait=true), or an existing review"}, **ERRORS},
    summary="Upload a proposal PDF for review",
)
async def create_review(
    file: UploadFile,
    settings: SettingsDep,
    store: StoreDep,
    files: FilesDep,
    runner: RunnerDep,
    catalog: CatalogDep,
    rubric: Annotated[str, Form(description="rubric name or id")] = "default",
    backend: Annotated[str | None, Form(description="anthropic | offline (default from settings)")] = None,
    vendor_name: Annotated[str | None, Form(max_length=200)] = None,
    force: Annotated[bool, Query(description="review again even if this file was already reviewed")] = False,
    wait: Annotated[bool, Query(description="answer when the review is done (bounded wait)")] = False,
    timeout: Annotated[float | None, Query(ge=0, description="seconds to wait at most")] = None,
) -> JSONResponse:
    data = await _read_upload(file, settings.ingest.max_file_bytes)
    check_pdf_bytes(data, settings.ingest)
    rubric_name, chosen = catalog.resolve(rubric)
    backend_name = resolve_backend_name(backend, settings)
    grader = runner.backend_for(backend_name)
    model = NO_MODEL if grader.offline else settings.model
    sha256 = hashlib.sha256(data).hexdigest()

    if not force:
        existing = await asyncio.to_thread(store.find_same, sha256, chosen.id, chosen.version, backend_name, model)
        if existing is not None:
            if wait:
                existing = await _wait_until_finished(
                    store, existing, min(timeout or 1e9, settings.wait_timeout_seconds)
                )
            return (
                _finished_response(existing, deduplicated=True)
                if existing.status in FINISHED
                else JSONResponse(
                    ReviewJob.from_record(existing, deduplicated=True).model_dump(mode="json"), status_code=200
                )
            )

    await asyncio.to_thread(files.put, sha256, data)
    job = await asyncio.to_thread(
        store.create,
        NewJob(
            file_name=safe_file_name(file.filename or "proposal.pdf"),
            vendor_name=(vendor_name or "").strip() or None,
            sha256=sha256,
            size_bytes=len(data),
            rubric_name=rubric_name,
            rubric_id=chosen.id,
            rubric_version=chosen.version,
            backend=backend_name,
            model=model,
        ),
    )
    runner.notify()
    if wait:
        job = await _wait_until_finished(store, job, min(timeout or 1e9, settings.wait_timeout_seconds))
        return _finished_response(job)
    return JSONResponse(ReviewJob.from_record(job).model_dump(mode="json"), status_code=202)


@router.get("", response_model=ReviewPage, summary="List reviews, newest first")
async def list_reviews(
    store: StoreDep,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReviewPage:
    jobs, total = await asyncio.to_thread(store.list, status, limit, offset)
    return ReviewPage(
        items=[ReviewJob.from_record(j, with_review=False) for j in jobs], total=total, limit=limit, offset=offset
    )


async def _job_or_404(store, review_id: str) -> JobRecord:
    job = await asyncio.to_thread(store.get, review_id)
    if job is None:
        raise ApiError(404, "not_found", f"no review with id '{review_id}'")
    return job


@router.get("/{review_id}", response_model=ReviewJob, responses=ERRORS, summary="Status and, when done, the review")
async def get_review(review_id: str, store: StoreDep) -> ReviewJob:
    return ReviewJob.from_record(await _job_or_404(store, review_id))


@router.get(
    "/{review_id}/report",
    responses={200: {"content": {"text/markdown": {}, "text/html": {}}}, 409: {"model": ErrorResponse}, **ERRORS},
    summary="The review rendered for people",
)
async def get_report(review_id: str, store: StoreDep, format: Literal["markdown", "html"] = "markdown") -> Response:
    job = await _job_or_404(store, review_id)
    if job.status is not JobStatus.DONE or not job.result:
        raise ApiError(409, "not_ready", f"the review is {job.status.value}; a report exists once it is done")
    review = Review.model_validate_json(job.result)
    if format == "html":
        return HTMLResponse(render_html(review))
    return PlainTextResponse(render_markdown(review), media_type="text/markdown; charset=utf-8")


@router.delete("/{review_id}", status_code=204, responses=ERRORS, summary="Delete a review and its stored PDF")
async def delete_review(review_id: str, store: StoreDep, files: FilesDep) -> Response:
    job = await asyncio.to_thread(store.delete, review_id)
    if job is None:
        raise ApiError(404, "not_found", f"no review with id '{review_id}'")
    if await asyncio.to_thread(store.references, job.sha256) == 0:
        await asyncio.to_thread(files.delete, job.sha256)
    return Response(status_code=204)
