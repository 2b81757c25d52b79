"""A fake Anthropic Messages API behind the real SDK: requests are recorded, answers scripted."""

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2

from reviewer.grading.anthropic_backend import AnthropicBackend

Responder = Callable[[dict[str, Any], int], httpx2.Response]


def requested_ids(body: dict[str, Any]) -> list[str]:
    task = body["messages"][0]["content"][-1]["text"]
    return re.findall(r"^- `([a-z0-9_]+)`", task, flags=re.MULTILINE)


def message_response(
    answer: dict[str, Any] | str,
    *,
    stop_reason: str = "end_turn",
    usage: dict[str, int] | None = None,
) -> httpx2.Response:
    text = answer if isinstance(answer, str) else json.dumps(answer)
    return httpx2.Response(
        200,
        json={
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-5-5",
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage
            or {
                "input_tokens": 100,
                "output_tokens": 50,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        },
    )


def error_response(status: int, message: str = "boom") -> httpx2.Response:
    kind = {401: "authentication_error", 529: "overloaded_error", 500: "api_error"}.get(status, "api_error")
    return httpx2.Response(
        status,
        json={"type": "error", "error": {"type": kind, "message": message}},
        headers={"retry-after-ms": "5"},
    )


def missing_answer(body: dict[str, Any], _: int) -> httpx2.Response:
    """A valid answer that grades every requested criterion `missing`."""
    findings = [
        {
            "criterion_id": cid,
            "grade": "missing",
            "rationale": "Not addressed.",
            "citations": [],
            "clarification_question": f"What about {cid}?",
        }
        for cid in requested_ids(body)
    ]
    return message_response({"findings": findings, "injection_attempts": [], "vendor_name": "Acme"})


class FakeAnthropic:
    def __init__(self, responder: Responder = missing_answer, delay: float = 0.0) -> None:
        self.responder = responder
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.timeline: list[tuple[str, int, float]] = []

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        number = len(self.requests)
        self.timeline.append(("start", number, time.perf_counter()))
        if self.delay:
            await asyncio.sleep(self.delay)
        response = self.responder(body, number)
        self.timeline.append(("end", number, time.perf_counter()))
        return response

    def client(self, max_retries: int = 2) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            api_key="test-key",
            base_url="http://fake-anthropic.test",
            max_retries=max_retries,
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.handle)),
        )


class FakeBatchAPI:
    """Message Batches and direct Messages behind one mock transport."""

    def __init__(self, outcome_for) -> None:
        self.outcome_for = outcome_for  # custom_id -> "succeeded" | "errored" | "expired" | "invalid"
        self.submitted: list[dict] = []
        self.direct_calls = 0
        self.polls = 0

    def batch(self, status: str) -> dict:
        n = len(self.submitted)
        ended = status == "ended"
        return {
            "id": "msgbatch_test",
            "type": "message_batch",
            "processing_status": status,
            "request_counts": {
                "processing": 0 if ended else n,
                "succeeded": n if ended else 0,
                "errored": 0,
                "canceled": 0,
                "expired": 0,
            },
            "created_at": "2026-11-29T10:00:00Z",
            "expires_at": "2026-11-30T10:00:00Z",
            "ended_at": "2026-11-29T10:05:00Z" if ended else None,
            "results_url": "https://fake-anthropic.test/v1/messages/batches/msgbatch_test/results" if ended else None,
            "archived_at": None,
            "cancel_initiated_at": None,
        }

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if request.method == "POST" and path == "/v1/messages/batches":
            self.submitted = json.loads(request.content)["requests"]
            return httpx2.Response(200, json=self.batch("in_progress"))
        if request.method == "GET" and path.endswith("/results"):
            lines = []
            for item in self.submitted:
                kind = self.outcome_for(item["custom_id"])
                if kind in ("succeeded", "invalid"):
                    message = missing_answer(item["params"], 0).json()
                    if kind == "invalid":
                        message["content"][0]["text"] = '{"findings": []}'
                    result = {"type": "succeeded", "message": message}
                elif kind == "errored":
                    result = {
                        "type": "errored",
                        "error": {"type": "error", "error": {"type": "api_error", "message": "boom"}},
                    }
                else:
                    result = {"type": kind}
                lines.append(json.dumps({"custom_id": item["custom_id"], "result": result}))
            return httpx2.Response(200, content="\n".join(lines).encode())
        if request.method == "GET" and path.startswith("/v1/messages/batches/"):
            self.polls += 1
            return httpx2.Response(200, json=self.batch("ended" if self.polls >= 2 else "in_progress"))
        if request.method == "POST" and path == "/v1/messages":
            self.direct_calls += 1
            return missing_answer(json.loads(request.content), self.direct_calls)
        return httpx2.Response(404, json={"type": "error", "error": {"type": "not_found_error", "message": path}})

    def backend(self, settings) -> AnthropicBackend:
        client = anthropic.AsyncAnthropic(
            api_key="test-key",
            base_url="http://fake-anthropic.test",
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.handle)),
        )
        return AnthropicBackend(settings, client=client)
