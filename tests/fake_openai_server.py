"""A fake OpenAI-compatible chat completions server on 127.0.0.1 for tests that run the real client.

Every request is recorded (body and headers). A responder decides each answer; by default every
requested criterion is graded `missing`. The helpers build the error shapes servers really send."""

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.loopback import LoopbackServer, QuietHandler


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float  # time.monotonic() on arrival
    raw: bytes = b""  # the body as it arrived


Responder = Callable[[dict[str, Any], int], Reply]  # (request body, 1-based request number) -> reply


def requested_ids(body: dict[str, Any]) -> list[str]:
    return re.findall(r"^- `([a-z0-9_]+)`", body["messages"][-1]["content"], flags=re.MULTILINE)


def finding(criterion_id: str, grade: str = "missing", quote: tuple[int, str] | None = None) -> dict[str, Any]:
    return {
        "criterion_id": criterion_id,
        "citations": [{"page": quote[0], "quote": quote[1]}] if quote else [],
        "rationale": "Not addressed." if grade == "missing" else "Addressed.",
        "grade": grade,
        "clarification_question": "Please explain." if grade != "met" else None,
    }


def completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    prompt_tokens: int = 1000,
    completion_tokens: int = 200,
) -> Reply:
    return Reply(
        body={
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": "fake-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def answer(body: dict[str, Any], findings: dict[str, dict[str, Any]] | None = None) -> Reply:
    """A valid answer to this request: the given findings by id, `missing` for the rest."""
    findings = findings or {}
    chosen = [findings.get(cid) or finding(cid) for cid in requested_ids(body)]
    return completion(json.dumps({"findings": chosen, "injection_attempts": [], "vendor_name": None}))


def missing_answer(body: dict[str, Any], _: int) -> Reply:
    return answer(body)


def error(status: int, message: str = "boom", headers: dict[str, str] | None = None) -> Reply:
    kind = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}.get(status, "server")
    return Reply(status=status, body={"error": {"message": message, "type": kind}}, headers=headers or {})


class FakeOpenAIServer(LoopbackServer):
    def __init__(self, responder: Responder = missing_answer) -> None:
        self.responder = responder
        self.received: list[Received] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["content-length"]))
                body = json.loads(raw)
                with outer._lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    outer.received.append(Received(self.path, headers, body, time.monotonic(), raw))
                    number = len(outer.received)
                reply = outer.responder(body, number)
                payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._serve(Handler)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.received]
