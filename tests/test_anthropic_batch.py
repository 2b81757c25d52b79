import asyncio
import json

import anthropic
import httpx2
import pytest

from reviewer.grading.anthropic_backend import AnthropicBackend
from reviewer.grading.anthropic_batch import BatchProgress, grade_in_batch, prepare
from reviewer.pipeline import assemble_review
from tests.conftest import make_document
from tests.fake_anthropic import missing_answer

PAGES = (
    "Proposal one. We agree an evaluation set of 500 claims before the contract.",
    "Proposal two. Client data stays in the EU region and is never used for training.",
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


def run_batch(api: FakeBatchAPI, rubric, settings):
    backend = api.backend(settings)
    documents = {f"doc{i}": make_document(text, file_name=f"p{i}.pdf") for i, text in enumerate(PAGES)}
    prepared = [prepare(backend, key, doc, rubric) for key, doc in documents.items()]
    progress: list[BatchProgress] = []
    gradings = asyncio.run(grade_in_batch(backend, prepared, rubric, poll_seconds=0, on_progress=progress.append))
    reviews = {
        k: assemble_review(documents[k], rubric, g, backend="anthropic", offline=False) for k, g in gradings.items()
    }
    return reviews, progress


def test_every_request_goes_in_one_batch_and_results_map_back_by_custom_id(rubric, settings):
    api = FakeBatchAPI(lambda cid: "succeeded")
    reviews, progress = run_batch(api, rubric, settings)
    assert len(api.submitted) == 4  # two documents x two groups
    assert {item["custom_id"] for item in api.submitted} == {"d0-g0", "d0-g1", "d1-g0", "d1-g1"}
    assert all(item["params"]["model"] == settings.model for item in api.submitted)
    assert api.direct_calls == 0
    assert progress[0].status == "in_progress" and progress[-1].status == "ended"
    for review in reviews.values():
        assert review.error_count == 0 and len(review.findings) == 9
        full_price = (100 * 2.0 + 50 * 10.0) / 1e6 * 2
        assert review.usage.estimated_cost_usd == pytest.approx(full_price / 2)


def test_errored_and_invalid_results_are_sent_again_directly(rubric, settings):
    api = FakeBatchAPI(lambda cid: {"d0-g1": "errored", "d1-g0": "invalid"}.get(cid, "succeeded"))
    reviews, _ = run_batch(api, rubric, settings)
    assert api.direct_calls == 2
    assert all(r.error_count == 0 for r in reviews.values())
    assert all(any(w.code == "batch_retried" for w in r.warnings) for r in reviews.values())


def test_an_expired_batch_is_completed_through_the_normal_path(rubric, settings):
    api = FakeBatchAPI(lambda cid: "expired")
    reviews, _ = run_batch(api, rubric, settings)
    assert api.direct_calls == 4
    assert all(r.error_count == 0 for r in reviews.values())
    review = reviews["doc0"]
    assert review.usage.estimated_cost_usd == pytest.approx((100 * 2.0 + 50 * 10.0) / 1e6 * 2)  # full price
