"""Every error the API returns has one shape: {"error": {"code": ..., "message": ...}}. Domain errors map
to statuses here, in one place; nothing else in the API chooses a status for a domain error."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reviewer.errors import BadInputError, IngestError, ReviewerError
from reviewer.queue.review_ids import AmbiguousReviewId

log = logging.getLogger(__name__)

INGEST_STATUS = {"too_large": 413, "not_pdf": 415}
CODE_STATUS = {
    "unknown_rubric": 404,
    "not_found": 404,
    "unauthorized": 401,
    "not_ready": 409,
    "forbidden": 403,
    "ambiguous_id": 409,
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra or {}


def status_for(error: ReviewerError) -> int:
    if error.code in CODE_STATUS:
        return CODE_STATUS[error.code]
    if isinstance(error, IngestError):
        return INGEST_STATUS.get(error.code, 422)
    if isinstance(error, BadInputError):
        return 422
    return 500


def status_for_code(code: str) -> int:
    if code in CODE_STATUS:
        return CODE_STATUS[code]
    return INGEST_STATUS.get(code, 500 if code == "internal_error" else 422)


# The core's wording is the CLI's ("--password"); an API client sends a form field instead.
API_WORDING = {
    "encrypted": "the PDF is password-protected: send the password in the `password` field",
    "wrong_password": "the PDF password is wrong: send the right one in the `password` field",
}


def api_message(code: str, message: str) -> str:
    """A job's error message as the API tells it."""
    return API_WORDING.get(code, message)


def error_body(code: str, message: str, **extra: object) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(error_body(exc.code, exc.message, **exc.extra), status_code=exc.status, headers=headers)

    @app.exception_handler(ReviewerError)
    async def _domain_error(_: Request, exc: ReviewerError) -> JSONResponse:
        extra = {"candidates": exc.candidates} if isinstance(exc, AmbiguousReviewId) else {}
        return JSONResponse(error_body(exc.code, exc.message, **extra), status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors())
        return JSONResponse(error_body("invalid_request", problems or "invalid request"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal_error", "internal error"), status_code=500)
