"""Upstream error text is never kept verbatim, and anything key-like is redacted (issue 13, 'What can leak')."""

import asyncio
import json
import logging

import anthropic
import httpx2
import pytest

from reviewer.config import AnthropicSettings, Settings
from reviewer.errors import ReviewerError
from reviewer.grading.anthropic_backend import AnthropicBackend
from reviewer.grading.anthropic_batch import grade_in_batch, prepare
from reviewer.pipeline import review_document
from reviewer.redact import REDACTED, redact
from tests.conftest import make_document
from tests.fake_anthropic import FakeAnthropic

# A key of no recognisable shape: only knowing it is configured can remove it.
GATEWAY_KEY = "gw-live-Q7v2Lp"
SK_KEY = "sk-ant-api03-Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE-dCbA_987654321"


@pytest.mark.parametrize(
    "text",
    [
        f"invalid request: x-api-key: {SK_KEY}",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
        'echo {"api_key": "abc123secretvalue"}',
        "upstream said: token dGhpcyBpcyBhIHNlY3JldCB0b2tlbiAxMjM0NTY3ODkw==",
        "signature 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 mismatch",
        f"proxy auth failed for {GATEWAY_KEY}",
    ],
)
def test_anything_that_looks_like_a_key_and_the_configured_key_are_redacted(text):
    kept = redact(text, [GATEWAY_KEY])
    assert REDACTED in kept
    for secret in (SK_KEY, "eyJhbGciOiJIUzI1NiJ9", "abc123secretvalue", "dGhpcyBpcyBh", "9f86d0818", GATEWAY_KEY):
        assert secret not in kept


def test_plain_error_text_is_kept_and_long_text_cut():
    assert redact("Overloaded: retry in 30 seconds (request 42)") == "Overloaded: retry in 30 seconds (request 42)"
    assert len(redact("word " * 500)) == 300


def echoing_gateway(fake: FakeAnthropic):
    """A gateway that answers 400 with the request's headers and body echoed in its message."""

    def respond(body, number):
        echo = json.dumps({"headers": fake.headers[-1], "body": body})[:3000]
        return httpx2.Response(
            400, json={"type": "error", "error": {"type": "invalid_request_error", "message": f"bad request: {echo}"}}
        )

    return respond


def client_for(fake: FakeAnthropic, key: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key=key,
        base_url="http://gateway.test",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(fake.handle)),
    )


@pytest.mark.parametrize("key", [SK_KEY, GATEWAY_KEY])
def test_an_upstream_error_echoing_the_key_is_kept_in_our_words_with_the_status(rubric, key, caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeAnthropic()
    fake.responder = echoing_gateway(fake)
    settings = Settings(anthropic=AnthropicSettings(api_key=key))
    backend = AnthropicBackend(settings, client=client_for(fake, key))
    review = asyncio.run(review_document(make_document("We keep data in the EU."), rubric, backend))

    assert key in json.dumps(fake.headers)  # the echo did carry the key
    kept = review.model_dump_json()
    assert key not in kept and "bad request" not in kept
    errors = {f.error for f in review.findings}
    assert errors == {"the Anthropic API refused the request as invalid (HTTP 400, invalid_request_error)"}
    assert key not in caplog.text


def test_a_message_batch_api_error_echoing_the_key_is_ours_too(rubric):
    fake = FakeAnthropic()
    fake.responder = echoing_gateway(fake)
    settings = Settings(anthropic=AnthropicSettings(api_key=SK_KEY))
    backend = AnthropicBackend(settings, client=client_for(fake, SK_KEY))
    prepared = [prepare(backend, "doc", make_document("We keep data in the EU."), rubric)]
    with pytest.raises(ReviewerError) as failed:
        asyncio.run(grade_in_batch(backend, prepared, rubric, poll_seconds=0))
    assert failed.value.code == "upstream_error"
    assert "HTTP 400" in failed.value.message and SK_KEY not in failed.value.message


def test_a_job_failure_quoting_a_key_is_stored_redacted(tmp_path):
    from reviewer.queue.runner import JobRunner
    from reviewer.rubric import RubricCatalog
    from reviewer.store import FileStore, JobStatus, JobStore, make_engine
    from tests.test_runner_faults import SAMPLE, queue, until

    class Leaky:
        name, offline = "leaky", False

        async def grade(self, document, rubric):
            raise ReviewerError(f"the gateway said: unauthorised for Bearer {SK_KEY}", code="upstream_error")

    async def scenario():
        settings = Settings(anthropic=AnthropicSettings(api_key=SK_KEY)).updated(
            storage={"data_dir": tmp_path}, jobs={"workers": 1, "poll_seconds": 0.05}, ingest={"processes": 1}
        )
        store = JobStore(make_engine(settings.storage.resolved_database_url))
        runner = JobRunner(store, FileStore(tmp_path / "uploads"), settings, RubricCatalog(), lambda n, s: Leaky())
        job = await queue(runner, SAMPLE, "leaky.pdf")
        await runner.start()
        try:
            return await until(runner, job.id, JobStatus.FAILED)
        finally:
            await runner.stop()

    failed = asyncio.run(scenario())
    assert failed.error_code == "upstream_error"
    assert SK_KEY not in failed.error_message and REDACTED in failed.error_message
