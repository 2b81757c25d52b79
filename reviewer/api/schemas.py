"""Request and response models of the API (the Review itself is the core's model)."""

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from reviewer.api.errors import api_message
from reviewer.queue.results import review_of
from reviewer.review import Review
from reviewer.store import NO_MODEL, JobRecord, JobStatus


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERROR_DESCRIPTIONS = {
    401: "no API key, or not a valid one",
    404: "no such review, batch or rubric",
    408: "the request body took longer than REVIEWER_API_BODY_TIMEOUT_SECONDS to arrive",
    409: "not ready yet, or a review id prefix that starts several reviews (`candidates`)",
    413: "the body, or one file, is over its size limit",
    415: "the file is not a PDF",
    422: "invalid parameters, or a file that cannot be reviewed (the code says why)",
}


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI `responses` for the error statuses a route really answers, each in the one error shape."""
    return {s: {"model": ErrorResponse, "description": ERROR_DESCRIPTIONS[s]} for s in statuses}


UPLOAD_ERRORS = error_responses(404, 408, 413, 415, 422)


class RubricRef(BaseModel):
    name: str
    id: str
    version: str


class ReviewLinks(BaseModel):
    self: str
    report_markdown: str
    report_html: str
    rounds: str


class ReviewJob(BaseModel):
    id: str
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    file_name: str
    vendor_name: str | None = None
    sha256: str
    size_bytes: int
    rubric: RubricRef
    backend: str
    model: str | None
    blind: bool = Field(default=False, description="Queued with blind model input (placeholders for names).")
    attempts: int
    error: ErrorDetail | None = None
    deduplicated: bool = Field(default=False, description="True when an existing review was returned.")
    links: ReviewLinks
    round: int | None = Field(
        default=None,
        description="The clarification round `review` shows (the latest done one; earlier ones: links.rounds).",
    )
    review: Review | None = None

    @classmethod
    def from_record(
        cls, job: JobRecord, *, with_review: bool = True, deduplicated: bool = False, review: Review | None = None
    ) -> "ReviewJob":
        """`review`: the view to show (the panel's final grades); default the grader's review as stored."""

        def when(ts: float | None) -> datetime | None:
            return datetime.fromtimestamp(ts, UTC) if ts is not None else None

        base = f"/v1/reviews/{job.id}"
        shown = _named(review or review_of(job), job.vendor_name) if with_review else None
        return cls(
            id=job.id,
            status=job.status,
            created_at=when(job.created_at),
            updated_at=when(job.updated_at),
            started_at=when(job.started_at),
            finished_at=when(job.finished_at),
            file_name=job.file_name,
            vendor_name=job.vendor_name,
            sha256=job.sha256,
            size_bytes=job.size_bytes,
            rubric=RubricRef(name=job.rubric_name, id=job.rubric_id, version=job.rubric_version),
            backend=job.backend,
            model=None if job.model == NO_MODEL else job.model,
            blind=job.blind,
            attempts=job.attempts,
            error=ErrorDetail(code=job.error_code, message=api_message(job.error_code, job.error_message or ""))
            if job.error_code
            else None,
            deduplicated=deduplicated,
            links=ReviewLinks(
                self=base,
                report_markdown=f"{base}/report?format=markdown",
                report_html=f"{base}/report?format=html",
                rounds=f"{base}/rounds",
            ),
            round=shown.round if shown is not None else None,
            review=shown,
        )


def _named(review: Review | None, vendor_name: str | None) -> Review | None:
    """The review under the name a person gave the job, when they gave one (it may postdate the review)."""
    if review is None or not vendor_name or review.vendor_name == vendor_name:
        return review
    return review.model_copy(update={"vendor_name": vendor_name})


class ReviewPage(BaseModel):
    items: list[ReviewJob]
    total: int
    limit: int
    offset: int


class RubricSummary(BaseModel):
    name: str
    id: str
    version: str
    title: str
    criteria: int
