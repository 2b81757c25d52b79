"""A fake Anthropic Messages API behind the real SDK: requests are recorded, answers scripted."""

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2

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
