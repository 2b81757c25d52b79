"""`--api URL`: the panel's commands (assess, consensus, audit, round, questions) against a running server
over HTTP instead of the local job store. The key is read from REVIEWER_API_KEY and sent only to that URL,
never printed; the evaluator is the key's name on the server. A server's error is one line and a non-zero
exit, like every error of the CLI: 4xx as bad input (exit 2), anything else as a failure (exit 1)."""

import argparse
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import httpx2

from reviewer.cli.context import API_KEY_ENV, EXIT_OK
from reviewer.errors import BadInputError, ReviewerError

ROUND_POLL_SECONDS = 1.0
ROUND_WAIT_SECONDS = 3600.0


class RemoteApi:
    """A thin client of the server's /v1 routes; every failure becomes a ReviewerError in one line."""

    def __init__(self, base_url: str, key: str, *, transport: httpx2.BaseTransport | None = None) -> None:
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise BadInputError(f"--api takes the server's http(s) URL, e.g. http://127.0.0.1:8000 (got {base_url!r})")
        self.base_url = base_url.rstrip("/")
        self.client = httpx2.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=httpx2.Timeout(120.0, connect=10.0),
            transport=transport,
            follow_redirects=False,  # the key goes to this URL only
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "RemoteApi":
        if getattr(args, "evaluator", None):
            raise BadInputError("--as does not apply with --api: the evaluator is the name of the API key")
        key = os.environ.get(API_KEY_ENV, "").strip()
        if not key:
            raise BadInputError(f"--api needs the server's API key in {API_KEY_ENV}", code="missing_api_key")
        return cls(args.api, key)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "RemoteApi":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx2.TimeoutException:
            raise ReviewerError(f"the server at {self.base_url} did not answer in time", code="unreachable") from None
        except httpx2.HTTPError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ReviewerError(f"cannot reach the server at {self.base_url}: {reason}", code="unreachable") from None
        if response.status_code >= 400:
            raise _server_error(response)
        return response

    def request_bytes(self, method: str, path: str, **kwargs: Any) -> bytes:
        """A route that answers a document, not JSON."""
        return self._send(method, path, **kwargs).content

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ReviewerError(
                f"the server at {self.base_url} answered {response.status_code} without JSON: is it a reviewer?",
                code="bad_response",
            ) from None


def _server_error(response: httpx2.Response) -> ReviewerError:
    try:
        detail = response.json().get("error") or {}
        code, message = str(detail.get("code") or "error"), " ".join(str(detail.get("message") or "").split())
    except (ValueError, AttributeError):
        code, message = "error", ""
    if response.status_code == 401:
        message = f"the server refused the key in {API_KEY_ENV} ({message or 'unauthorized'})"
    text = f"{message or 'the server refused the request'} (HTTP {response.status_code} {code})"
    error_class = BadInputError if 400 <= response.status_code < 500 else ReviewerError
    return error_class(text[:500], code=code)


def _review_path(review_id: str) -> str:
    return f"/v1/reviews/{quote(review_id, safe='')}"


def run_assess(args: argparse.Namespace, body: dict) -> int:
    with RemoteApi.from_args(args) as api:
        made = api.request("POST", f"{_review_path(args.review_id)}/assessments", json=body)
    unverified = sum(1 for c in made.get("citations", []) if not c.get("verified"))
    tail = f" ({unverified} of your quotes not found in the document)" if unverified else ""
    number = made.get("round", 1)
    on_round = f", round {number}" if number > 1 else ""
    review_id = made.get("review_id", args.review_id)  # the full id, when a prefix was given
    print(f"{made['evaluator']} assessed {made['criterion_id']} as {made['grade']} on {review_id}{on_round}{tail}")
    return EXIT_OK


def run_consensus(args: argparse.Namespace, body: dict) -> int:
    with RemoteApi.from_args(args) as api:
        path = f"{_review_path(args.review_id)}/consensus/{quote(args.criterion, safe='')}"
        decided = api.request("PUT", path, json=body)
    number = decided.get("round", 1)
    on_round = f", round {number}" if number > 1 else ""
    print(f"consensus on {decided['criterion_id']}: {decided['grade']} (set by {decided['lead']}){on_round}")
    return EXIT_OK


def audit_events(args: argparse.Namespace) -> list:
    from reviewer.store import AuditEvent

    events: list[AuditEvent] = []
    with RemoteApi.from_args(args) as api:
        while True:
            page = api.request(
                "GET", f"{_review_path(args.review_id)}/audit", params={"limit": 500, "offset": len(events)}
            )
            events += [AuditEvent.model_validate(e) for e in page["items"]]
            if not page["items"] or len(events) >= page["total"]:
                return events


def run_round(args: argparse.Namespace, data: bytes) -> int:
    from reviewer.cli.rounds import print_round
    from reviewer.queue.rounds import RoundView

    with RemoteApi.from_args(args) as api:
        files = {"file": (Path(args.answer).name, data, "application/octet-stream")}
        opened = api.request("POST", f"{_review_path(args.review_id)}/rounds", files=files)
        path = f"{_review_path(opened.get('review_id', args.review_id))}/rounds"  # the full id, from here on
        deadline = time.monotonic() + ROUND_WAIT_SECONDS
        while True:
            view = RoundView.model_validate(api.request("GET", f"{path}/{opened['number']}"))
            if view.status.value in ("done", "failed"):
                break
            if time.monotonic() > deadline:
                raise ReviewerError(f"round {view.number} is still {view.status.value} on the server", code="timeout")
            time.sleep(ROUND_POLL_SECONDS)
    if view.status.value == "failed":
        raise ReviewerError(f"round {view.number} failed: {view.error_message}", code=view.error_code or "failed")
    if args.format == "json":
        print(view.model_dump_json(indent=2))
    else:
        print_round(view)
    return EXIT_OK


def questions_document(args: argparse.Namespace) -> bytes:
    """The review's questions as the server renders them for the key's evaluator (the server records the
    export in its audit trail)."""
    with RemoteApi.from_args(args) as api:
        return api.request_bytes("GET", f"{_review_path(args.review_id)}/questions", params={"format": args.format})
