"""A fake Anthropic Messages API on 127.0.0.1 for tests and benchmarks that run a real server process:
answers every request after a fixed delay, grading each requested criterion `missing`."""

import json
import re
import threading
import time

from tests.loopback import LoopbackServer, QuietHandler


class FakeAnthropicServer(LoopbackServer):
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with outer._lock:
                    outer.requests += 1
                time.sleep(outer.delay)
                task = body["messages"][0]["content"][-1]["text"]
                ids = re.findall(r"^- `([a-z0-9_]+)`", task, flags=re.MULTILINE)
                answer = {
                    "findings": [
                        {
                            "criterion_id": i,
                            "citations": [],
                            "rationale": "Not addressed.",
                            "grade": "missing",
                            "clarification_question": "Please explain.",
                        }
                        for i in ids
                    ],
                    "injection_attempts": [],
                    "vendor_name": None,
                }
                payload = json.dumps(
                    {
                        "id": "msg_fake",
                        "type": "message",
                        "role": "assistant",
                        "model": body["model"],
                        "content": [{"type": "text", "text": json.dumps(answer)}],
                        "stop_reason": "end_turn",
                        "stop_sequence": None,
                        "usage": {
                            "input_tokens": 1000,
                            "output_tokens": 200,
                            "cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 0,
                        },
                    }
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._serve(Handler)
