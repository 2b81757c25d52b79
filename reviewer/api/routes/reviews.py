"""/v1/reviews: upload a proposal, follow its review, read the report, delete it."""

import asyncio
import contextlib
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import SecretStr

from reviewer.api.deps import (
    CatalogDep,
    EvaluatorDep,
    IntakeDep,
    PanelDep,
    ProposalsDep,
    ReviewIdDep,
    RoundsDep,
    RunnerDep,
    SettingsDep,
    StoreDep,
)
from reviewer.api.errors import ApiError, api_message, error_body, status_for_code
from reviewer.api.schemas import UPLOAD_ERRORS, ReviewJob, ReviewPage, error_responses
from reviewer.api.uploads import read_upload
from reviewer.queue.blind import blinded, blinded_rounds, review_as_seen_by
from reviewer.queue.intake import ReviewTarget
from reviewer.queue.runner import JobRunner
from reviewer.render.html import render_html
from reviewer.render.markdown import render_markdown
from reviewer.store import FINISHED_STATUSES, JobRecord, JobStatus

router = APIRouter(prefix="/v1/reviews", tags=["reviews"])

OTHER_PROCESS_POLL_SECONDS = 0.25
MAX_OFFSET = 2**63 - 1  # the largest the databases' BIGINT takes; past it a query would fail (500)


async def wait_until_finished(store, runner: JobRunner, job: JobRecord, seconds: float) -> JobRecord:
    """Answer as soon as this process finishes the job; a job another process took is seen at the
    next re-read of the store, every OTHER_PROCESS_POLL_SECONDS."""
    deadline = time.monotonic() + seconds
    while True:
        with runner.finish_signals.watch(job.id) as finished:
            job = await asyncio.to_thread(store.get, job.id) or job
            remaining = deadline - time.monotonic()
            if job.status in FINISHED_STATUSES or remaining <= 0:
                return job
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, OTHER_PROCESS_POLL_SECONDS)):
                    await finished.wait()


def _finished_response(job: JobRecord, *, deduplicated: bool = False) -> JSONResponse:
    if job.status is JobStatus.FAILED and job.error_code:
        status = status_for_code(job.error_code)
        message = api_message(job.error_code, job.error_message or "")
        return JSONResponse(error_body(job.error_code, message, review_id=job.id), status_code=status)
    body = ReviewJob.from_record(job, deduplicated=deduplicated).model_dump(mode="json")
    return JSONResponse(body, status_code=200 if job.status in FINISHED_STATUSES else 202)


@router.post(
    "",
    status_code=202,
    response_model=ReviewJob,
    responses={200: {"model": ReviewJob, "description": "done (wait=true), or an existing review"}, **UPLOAD_ERRORS},
    summary="Upload a proposal (PDF or Word .docx) for review",
)
async def create_review(
    file: UploadFile,
    settings: SettingsDep,
    store: StoreDep,
    intake: IntakeDep,
    runner: RunnerDep,
    catalog: CatalogDep,
    evaluator: EvaluatorDep,
    rubric: Annotated[str, Form(description="rubric name or id")] = "default",
    backend: Annotated[str | None, Form(description="anthropic | offline (default from settings)")] = None,
    vendor_name: Annotated[str | None, Form(max_length=200)] = None,
    blind: Annotated[
        bool,
        Form(
            description="blind model input: vendor, product and people's names, emails, phone numbers and URLs are "
            "replaced by placeholders before the document is sent to a model, and restored in the report"
        ),
    ] = False,
    password: Annotated[
        SecretStr | None,
        Form(
            description="an encrypted PDF's password; used to read it in this server process, never stored or logged",
            json_schema_extra={"format": "password"},
        ),
    ] = None,
    force: Annotated[bool, Query(description="review again even if this file was already reviewed")] = False,
    wait: Annotated[bool, Query(description="answer when the review is done (bounded wait)")] = False,
    timeout: Annotated[float | None, Query(ge=0, description="seconds to wait at most")] = None,
) -> JSONResponse:
    data = await read_upload(file, settings.ingest.max_file_bytes)
    target = ReviewTarget.resolve(settings, catalog, runner, rubric, backend, blind=blind)
    job, deduplicated = await intake.enqueue(
        data,
        file.filename or "proposal.pdf",
        target,
        vendor_name=vendor_name,
        force=force,
        password=password.get_secret_value() if password else None,
        actor=evaluator.name,
    )
    if wait:
        job = await wait_until_finished(store, runner, job, min(timeout or 1e9, settings.api.wait_timeout_seconds))
    if job.status in FINISHED_STATUSES:
        return _finished_response(job, deduplicated=deduplicated)
    status = 200 if deduplicated else 202
    return JSONResponse(
        ReviewJob.from_record(job, deduplicated=deduplicated).model_dump(mode="json"), status_code=status
    )


@router.get("", response_model=ReviewPage, summary="List reviews, newest first")
async def list_reviews(
    store: StoreDep,
    evaluator: EvaluatorDep,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ReviewPage:
    jobs, total = await asyncio.to_thread(store.list_jobs, status, limit, offset)
    if not evaluator.lead:  # the listing must not undo a blind panel's labels
        jobs = [blinded(j)[0] if await asyncio.to_thread(store.in_blind_batch, j.id) else j for j in jobs]
    return ReviewPage(
        items=[ReviewJob.from_record(j, with_review=False) for j in jobs], total=total, limit=limit, offset=offset
    )


async def _job_or_404(store, review_id: str) -> JobRecord:
    job = await asyncio.to_thread(store.get, review_id)
    if job is None:
        raise ApiError(404, "not_found", f"no review with id '{review_id}'")
    return job


@router.get(
    "/{review_id}",
    response_model=ReviewJob,
    responses=error_responses(404, 409),
    summary="Status and, when done, the review with the panel's final grades of its latest round "
    "(`round` says which; every round: links.rounds)",
)
async def get_review(
    review_id: ReviewIdDep, store: StoreDep, panel: PanelDep, proposals: ProposalsDep, evaluator: EvaluatorDep
) -> ReviewJob:
    job = await _job_or_404(store, review_id)
    seen = await asyncio.to_thread(
        review_as_seen_by, store, panel, job, evaluator.name, lead=evaluator.lead, pages=proposals
    )
    return ReviewJob.from_record(seen.job, review=seen.review)


@router.get(
    "/{review_id}/report",
    responses={200: {"content": {"text/markdown": {}, "text/html": {}}}, **error_responses(404, 409, 422)},
    summary="The review rendered for people",
)
async def get_report(
    review_id: ReviewIdDep,
    store: StoreDep,
    panel: PanelDep,
    rounds: RoundsDep,
    proposals: ProposalsDep,
    evaluator: EvaluatorDep,
    format: Literal["markdown", "html"] = "markdown",
) -> Response:
    """The latest round's final grades, with the changes of every round after the first."""
    job = await _job_or_404(store, review_id)
    if job.status is not JobStatus.DONE or not job.result:
        raise ApiError(409, "not_ready", f"the review is {job.status.value}; a report exists once it is done")
    seen = await asyncio.to_thread(
        review_as_seen_by, store, panel, job, evaluator.name, lead=evaluator.lead, pages=proposals
    )
    review = seen.review
    history = await asyncio.to_thread(
        rounds.rounds, job.id, viewer=evaluator.name, lead=evaluator.lead, blind=seen.blind
    )
    if seen.masked:
        history = blinded_rounds(history, job.id, seen)
    await asyncio.to_thread(
        store.record_event, job.id, evaluator.name, "report_exported", after={"format": format, "round": review.round}
    )
    if format == "html":
        return HTMLResponse(render_html(review, history))
    return PlainTextResponse(render_markdown(review, history), media_type="text/markdown; charset=utf-8")


@router.delete(
    "/{review_id}", status_code=204, responses=error_responses(404), summary="Delete a review and its stored PDF"
)
async def delete_review(review_id: str, intake: IntakeDep, store: StoreDep, evaluator: EvaluatorDep) -> Response:
    job = await intake.delete(review_id)
    if job is None:
        raise ApiError(404, "not_found", f"no review with id '{review_id}'")
    deleted = {"file_name": job.file_name, "sha256": job.sha256}
    await asyncio.to_thread(store.forget_panel, job.id, evaluator.name, deleted)
    return Response(status_code=204)
