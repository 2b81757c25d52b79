import asyncio

import pytest

from reviewer.grading.anthropic_batch import BatchProgress, grade_in_batch, prepare
from reviewer.pipeline import assemble_review
from tests.conftest import make_document
from tests.fake_anthropic import FakeBatchAPI

PAGES = (
    "Proposal one. We agree an evaluation set of 500 claims before the contract.",
    "Proposal two. Client data stays in the EU region and is never used for training.",
)


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
    assert all(item["params"]["model"] == settings.anthropic.model for item in api.submitted)
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
