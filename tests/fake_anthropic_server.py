"""A fake Anthropic Messages API on 127.0.0.1 for tests and benchmarks that run a real server process:
answers every request after a fixed delay, grading each requested criterion `missing`.

It answers on any path, so the SDK's platform clients can use it too (Bedrock posts to
/model/{model}/invoke, Vertex AI to .../publishers/anthropic/models/{model}:rawPredict, both without
`model` in the body): `paths`, `headers`, `bodies` and `raw_bodies` record what arrived, `failures` scripts error
statuses (or status and body) for the first requests, `quotes` grades a criterion met with a citation,
`usage` overrides the usage reported."""

import json
import re
import threading
import time

from tests.loopback import LoopbackServer, QuietHandler


class FakeAnthropicServer(LoopbackServer):
    def __init__(
        self,
        delay: float = 0.0,
        *,
        failures: list[int | tuple[int, dict]] | None = None,
        quotes: dict[str, tuple[int, str]] | None = None,
        usage: dict[str, int] | None = None,
    ) -> None:
        self.delay = delay
        self.requests = 0
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.bodies: list[dict] = []
        self.raw_bodies: list[bytes] = []  # as they arrived
        self.failures = list(failures or [])
        self.quotes = quotes or {}
        self.usage = usage
        self._lock = threading.Lock()
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["content-length"]))
                body = json.loads(raw)
                with outer._lock:
                    outer.requests += 1
                    outer.raw_bodies.append(raw)
                    outer.paths.append(self.path)
                    outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                    outer.bodies.append(body)
                    failure = outer.failures.pop(0) if outer.failures else None
                if failure is not None:
                    status, error = failure if isinstance(failure, tuple) else (failure, None)
                    self._reply(status, error or {"type": "error", "error": {"type": "api_error", "message": "x"}})
                    return
                time.sleep(outer.delay)
                task = body["messages"][0]["content"][-1]["text"]
                ids = re.findall(r"^- `([a-z0-9_]+)`", task, flags=re.MULTILINE)
                answer = {
                    "findings": [outer._finding(i) for i in ids],
                    "injection_attempts": [],
                    "vendor_name": None,
                }
                message = {
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "model": body.get("model", "claude-sonnet-5-5"),
                    "content": [{"type": "text", "text": json.dumps(answer)}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": outer.usage
                    or {
                        "input_tokens": 1000,
                        "output_tokens": 200,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                    },
                }
                self._reply(200, message)

            def _reply(self, status: int, message: dict) -> None:
                payload = json.dumps(message).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                if status != 200:
                    self.send_header("retry-after-ms", "5")
                self.end_headers()
                self.wfile.write(payload)

        self._serve(Handler)

    def _finding(self, criterion_id: str) -> dict:
        if criterion_id in self.quotes:
            page, quote = self.quotes[criterion_id]
            return {
                "criterion_id": criterion_id,
                "citations": [{"page": page, "quote": quote}],
                "rationale": "Stated.",
                "grade": "met",
                "clarification_question": None,
            }
        return {
            "criterion_id": criterion_id,
            "citations": [],
            "rationale": "Not addressed.",
            "grade": "missing",
            "clarification_question": "Please explain.",
        }
