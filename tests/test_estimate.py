import asyncio
from pathlib import Path

import pytest

from reviewer.cli import main
from reviewer.grading.anthropic_backend import AnthropicBackend, estimate_cost
from reviewer.grading.estimate import OUTPUT_TOKENS_PER_CRITERION, estimate_review
from reviewer.grading.excerpts import estimate_tokens
from reviewer.pipeline import review_document
from tests.conftest import make_document
from tests.fake_anthropic import FakeAnthropic
from tests.samples import sample_document

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
PAGES = (
    "Acme AI proposal. We measure accuracy on an agreed evaluation set of 1,000 claims before the contract.",
    "You own the data, the fine-tuned weights and the logs. We hand over code, prompts and the pipeline.",
)


def test_estimate_counts_the_calls_the_backend_makes_and_bills_the_cached_prefix_once(rubric, settings):
    document = make_document(*PAGES)
    fake = FakeAnthropic()
    asyncio.run(review_document(document, rubric, AnthropicBackend(settings, client=fake.client())))

    estimate = estimate_review(document, rubric, settings)
    u = estimate.usage
    assert u.calls == len(fake.requests) == 2
    first = fake.requests[0]
    prefix = estimate_tokens(first["system"] + first["messages"][0]["content"][0]["text"])
    assert u.cache_creation_input_tokens == prefix and u.cache_read_input_tokens == prefix
    assert u.output_tokens == OUTPUT_TOKENS_PER_CRITERION * len(rubric.criteria)
    assert estimate.cost_usd == pytest.approx(estimate_cost(u, settings.anthropic.model, settings))
    assert estimate.batch_cost_usd == pytest.approx(estimate.cost_usd / 2, abs=1e-6)


def test_in_excerpt_mode_every_call_writes_its_own_prefix(rubric, settings):
    pages = [page.text for pdf in sorted(SAMPLES.glob("*.pdf")) for page in sample_document(pdf).pages]
    estimate = estimate_review(make_document(*pages), rubric, settings.updated(grading={"document_token_budget": 100}))
    assert estimate.usage.calls == 2
    assert estimate.usage.cache_read_input_tokens == 0 and estimate.usage.cache_creation_input_tokens > 0


def test_an_unpriced_model_has_no_cost_but_still_tokens(rubric, settings):
    estimate = estimate_review(make_document(*PAGES), rubric, settings.with_model("claude-new"))
    assert estimate.cost_usd is None and estimate.batch_cost_usd is None and estimate.usage.output_tokens > 0


def test_eval_and_bulk_estimates_need_no_key_and_send_nothing(capsys, monkeypatch):
    def no_client(*args, **kwargs):
        raise AssertionError("a client was created")

    monkeypatch.setattr("reviewer.grading.anthropic_backend.make_client", no_client)
    assert main(["eval", "--samples", "--estimate", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("samples: estimate for 2 documents with claude-sonnet-5-5: 4 calls")
    assert "Nothing was sent." in out

    assert main(["bulk", str(SAMPLES / "helix_systems.pdf"), str(SAMPLES / "coral_data.pdf"), "--estimate"]) == 0
    assert capsys.readouterr().out.startswith("estimate for 2 documents with claude-sonnet-5-5: 4 calls")
