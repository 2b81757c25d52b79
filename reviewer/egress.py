"""What leaves the machine (issue 16, data safety): every HTTP request a model backend sends is recorded,
its size and a SHA-256 of its body but never the body, and no request goes to a host that
REVIEWER_ALLOWED_HOSTS does not list.

Backends build their HTTP client with `event_hooks(...)`; the hook runs for every request the client sends
(each retry, each redirect) after the request is built and signed, so what it measures is what goes out.
Which review a request is for, and where its record goes, comes from the `egress_scope` its caller opened
(the job runner, a clarification round, a message batch): backends know nothing of reviews or stores. A
request sent outside any scope (a one-off CLI run with no store) is refused by the same host rules and
logged at debug level only.
"""

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, Field

from reviewer.errors import ConfigurationError

if TYPE_CHECKING:
    import httpx2

log = logging.getLogger(__name__)

ALLOWED_HOSTS_SETTING = "REVIEWER_ALLOWED_HOSTS"


class EgressRecord(BaseModel):
    """One request that left the machine. Never its content: its size and its hash."""

    at: datetime = Field(description="When it was sent (UTC).")
    provider: str = Field(description="The backend that sent it: anthropic, bedrock, vertex, openai_compatible.")
    host: str
    method: str
    path: str = Field(description="The URL path, without its query string.")
    model: str | None = None
    review_id: str | None = None
    purpose: str = Field(
        description="grading, clarification_round, message_batch, rfp_extraction, authentication (a platform's "
        "token exchange)."
    )
    bytes_sent: int = Field(description="Size of the request body in bytes (headers not counted).")
    sha256: str = Field(description="SHA-256 of the request body, to match against a provider's own logs.")


class EgressLogView(BaseModel):
    """A review's requests, as every shell shows them."""

    review_id: str
    requests: int
    bytes_sent: int
    hosts: list[str] = Field(description="The hosts its requests went to, sorted.")
    items: list[EgressRecord] = Field(description="Oldest first.")

    @classmethod
    def of(cls, review_id: str, records: list[EgressRecord]) -> "EgressLogView":
        return cls(
            review_id=review_id,
            requests=len(records),
            bytes_sent=sum(r.bytes_sent for r in records),
            hosts=sorted({r.host for r in records}),
            items=records,
        )


class EgressRecorder(Protocol):
    def record_egress(self, records: list[EgressRecord]) -> None: ...


@dataclass(frozen=True)
class EgressScope:
    recorder: EgressRecorder | None
    review_ids: tuple[str, ...] = ()
    purpose: str = "grading"


_scope: ContextVar[EgressScope | None] = ContextVar("egress_scope", default=None)


@contextlib.contextmanager
def egress_scope(recorder: EgressRecorder | None, *review_ids: str, purpose: str = "grading") -> Iterator[None]:
    """Requests sent inside this block (and the tasks and threads it starts) are recorded with `recorder`,
    once per review id given (a message batch carries many reviews), or once without a review."""
    token = _scope.set(EgressScope(recorder, tuple(review_ids), purpose))
    try:
        yield
    finally:
        _scope.reset(token)


@contextlib.contextmanager
def narrowed_to(review_id: str, purpose: str = "grading") -> Iterator[None]:
    """Inside a scope of many reviews (a message batch), requests for one of them alone; elsewhere, no change."""
    scope = _scope.get()
    if scope is None or review_id not in scope.review_ids:
        yield
        return
    with egress_scope(scope.recorder, review_id, purpose=purpose):
        yield


class HostNotAllowed(ConfigurationError):
    code = "host_not_allowed"


def check_host(host: str, allowed: list[str], provider: str) -> None:
    """Raise HostNotAllowed unless `host` is listed (an empty list allows every host)."""
    if allowed and host.lower() not in allowed:
        raise HostNotAllowed(
            f"{provider} host {host} is not in {ALLOWED_HOSTS_SETTING} ({', '.join(allowed)}); nothing was sent"
        )


class EgressRefused(HostNotAllowed):
    """Raised by the hook for a request about to go to a host not allowed (a redirect, say): the check at
    construction saw the configured host; this one sees every request."""


RequestHook = Callable[["httpx2.Request"], Awaitable[None]]


def _refuse_unless_allowed(host: str, allowed: list[str]) -> None:
    if allowed and host.lower() not in allowed:
        log.error("refused a request to %s: not in %s", host, ALLOWED_HOSTS_SETTING)
        raise EgressRefused(f"a request to {host} was refused: not in {ALLOWED_HOSTS_SETTING}; it was not sent")


def _scoped_records(
    provider: str, host: str, method: str, path: str, model: str | None, body: bytes, purpose: str | None = None
) -> tuple[EgressRecorder, list[EgressRecord]] | None:
    """The records of one request in the current scope, and where they go; None outside a recorded scope."""
    scope = _scope.get()
    base = EgressRecord(
        at=datetime.now(UTC),
        provider=provider,
        host=host,
        method=method,
        path=path,
        model=model,
        purpose=purpose or (scope.purpose if scope else "grading"),
        bytes_sent=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
    )
    if scope is None or scope.recorder is None:
        log.debug("egress outside a recorded scope: %s %s%s, %d bytes", method, host, path, len(body))
        return None
    return scope.recorder, [base.model_copy(update={"review_id": r}) for r in scope.review_ids] or [base]


def event_hooks(provider: str, model: str | None, allowed: list[str]) -> dict[str, list[RequestHook]]:
    """`event_hooks=` for the httpx2 client of a backend: refuse a host not allowed, record the rest."""

    import httpx2

    async def on_request(request: httpx2.Request) -> None:
        _refuse_unless_allowed(request.url.host, allowed)
        try:
            body = request.content
        except httpx2.RequestNotRead:
            body = await request.aread()
        found = _scoped_records(provider, request.url.host, request.method, request.url.path, model, body)
        if found is not None:
            recorder, records = found
            # Recorded before it is sent: a request whose record cannot be written does not go out.
            await asyncio.to_thread(recorder.record_egress, records)

    return {"request": [on_request]}


def check_and_record(
    provider: str, url: str, method: str, body: bytes | str | None, allowed: list[str], *, purpose: str
) -> None:
    """For a request a library sends with its own HTTP client (Google's OAuth token exchange): what the hook
    does, called just before it is sent, from synchronous code."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    _refuse_unless_allowed(host, allowed)
    data = body.encode() if isinstance(body, str) else body or b""
    found = _scoped_records(provider, host, method, parts.path or "/", None, data, purpose)
    if found is not None:
        recorder, records = found
        recorder.record_egress(records)
