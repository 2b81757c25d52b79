"""The openai_compatible backend: the real httpx client against a fake chat completions server on 127.0.0.1."""

import asyncio
import json
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx2
import pytest
from pydantic import SecretStr

from reviewer.cli import main
from reviewer.config import ModelPrice
from reviewer.errors import ConfigurationError
from reviewer.grading.base import create_backend
from reviewer.grading.openai_compatible import OpenAICompatibleBackend, chat_url, retry_after_seconds
from reviewer.pipeline import review_document
from reviewer.review import FindingFlag, Grade, Review
from tests.conftest import make_document
from tests.fake_openai_server import (
    FakeOpenAIServer,
    Reply,
    answer,
    completion,
    error,
    finding,
    missing_answer,
    requested_ids,
)
from tests.test_cli import SAMPLES

PAGE_1 = "Acme AI proposal.\nWe run our own document AI product in production for 40 customers since 2019."
PAGE_2 = "Acceptance: the model is accepted at an accuracy of at least 92% on the agreed evaluation set."


def backend_for(server: FakeOpenAIServer, settings, *, openai=None, **grading) -> OpenAICompatibleBackend:
    options = {"base_url": f"{server.url}/v1", "model": "qwen3-32b", "max_retries": 2, **(openai or {})}
    return OpenAICompatibleBackend(settings.updated(openai=options, grading=grading), retry_base_seconds=0)


def review_with(server: FakeOpenAIServer, rubric, settings, **options) -> Review:
    backend = backend_for(server, settings, **options)
    return asyncio.run(review_document(make_document(PAGE_1, PAGE_2), rubric, backend))


def test_requests_carry_model_document_criteria_ids_and_a_strict_json_schema_without_a_key(rubric, settings):
    with FakeOpenAIServer() as server:
        review_with(server, rubric, settings)

    assert len(server.received) == 2  # nine criteria, five per call
    assert sorted(cid for body in server.bodies for cid in requested_ids(body)) == sorted(rubric.criterion_ids)
    for request in server.received:
        assert request.path == "/v1/chat/completions"
        assert "authorization" not in request.headers
        body = request.body
        assert body["model"] == "qwen3-32b"
        system, user = body["messages"]
        assert system["role"] == "system" and user["role"] == "user"
        assert all(f"`{cid}`" in system["content"] for cid in rubric.criterion_ids)
        assert '<page number="1">\nAcme AI proposal.' in user["content"]
        assert '<page number="2">\nAcceptance:' in user["content"]
        response_format = body["response_format"]
        assert response_format["type"] == "json_schema"
        assert response_format["json_schema"]["strict"] is True
        schema = response_format["json_schema"]["schema"]
        assert schema["additionalProperties"] is False
        assert schema["$defs"]["RawFinding"]["properties"]["criterion_id"]["enum"] == rubric.criterion_ids
    first, second = server.bodies
    assert first["messages"][0] == second["messages"][0]  # one shared system prompt


def test_the_api_key_is_sent_as_a_bearer_token_when_set(rubric, settings):
    with FakeOpenAIServer() as server:
        review_with(server, rubric, settings, openai={"api_key": SecretStr("sk-local-0123456789")})
    assert {r.headers["authorization"] for r in server.received} == {"Bearer sk-local-0123456789"}


def test_an_answer_becomes_verified_findings_with_usage_and_says_cost_is_unknown_without_a_price(rubric, settings):
    quoted = finding("acceptance_criteria", "met", (2, "accepted at an accuracy of at least 92%"))
    with FakeOpenAIServer(lambda body, n: answer(body, {"acceptance_criteria": quoted})) as server:
        review = review_with(server, rubric, settings)

    [met] = [f for f in review.findings if f.criterion_id == "acceptance_criteria"]
    assert met.grade is Grade.MET and met.citations[0].verified and met.citations[0].page == 2
    assert review.error_count == 0 and review.backend == "openai_compatible" and review.model == "qwen3-32b"
    assert (review.usage.calls, review.usage.input_tokens, review.usage.output_tokens) == (2, 2000, 400)
    assert review.usage.estimated_cost_usd == 0
    assert any(w.code == "no_price" and "qwen3-32b" in w.message for w in review.warnings)


def test_a_configured_price_gives_a_cost(rubric, settings):
    with FakeOpenAIServer() as server:
        prices = {"qwen3-32b": ModelPrice(input=1.0, output=10.0)}
        review = review_with(server, rubric, settings, openai={"prices": prices})
    assert review.usage.estimated_cost_usd == pytest.approx((2000 * 1.0 + 400 * 10.0) / 1_000_000)
    assert not any(w.code == "no_price" for w in review.warnings)


def test_a_429_is_retried_after_the_wait_its_retry_after_asks_for(rubric, settings):
    def reply(body, number):
        if number == 1:
            return error(429, "slow down", headers={"retry-after": "0.4"})
        return missing_answer(body, number)

    with FakeOpenAIServer(reply) as server:
        review = review_with(server, rubric, settings, criteria_per_call=9)
    assert review.error_count == 0 and len(server.received) == 2
    assert server.received[1].at - server.received[0].at >= 0.4


def test_retry_after_is_read_as_seconds_milliseconds_or_a_date():
    def response(**headers):
        return httpx2.Response(429, headers=headers)

    assert retry_after_seconds(response(**{"retry-after": "3"})) == 3
    assert retry_after_seconds(response(**{"retry-after-ms": "250"})) == 0.25
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < retry_after_seconds(response(**{"retry-after": later})) <= 30
    assert retry_after_seconds(response(**{"retry-after": "9999"})) == 120  # capped
    assert retry_after_seconds(response()) is None


def test_a_passing_5xx_is_retried_and_a_lasting_one_is_an_error_per_criterion_never_missing(rubric, settings):
    def flaky(body, number):
        return error(503, "loading model") if number == 1 else missing_answer(body, number)

    with FakeOpenAIServer(flaky) as server:
        assert review_with(server, rubric, settings, criteria_per_call=9).error_count == 0
    assert len(server.received) == 2

    with FakeOpenAIServer(lambda body, n: error(500, "internal trouble")) as server:
        review = review_with(server, rubric, settings)
    assert len(server.received) == 2 * 3  # two groups, each tried once and retried twice
    assert review.error_count == 9
    assert all(f.grade is None and "500" in f.error and "internal trouble" in f.error for f in review.findings)


def test_invalid_json_is_asked_again_and_a_lasting_one_is_an_error_per_criterion(rubric, settings):
    def once(body, number):
        return completion('{"findings": [oops') if number == 1 else missing_answer(body, number)

    with FakeOpenAIServer(once) as server:
        assert review_with(server, rubric, settings, criteria_per_call=9).error_count == 0
    assert len(server.received) == 2

    with FakeOpenAIServer(lambda body, n: completion("not json at all")) as server:
        review = review_with(server, rubric, settings, criteria_per_call=9, answer_attempts=2)
    assert len(server.received) == 2
    assert review.error_count == 9
    assert all(FindingFlag.GRADING_ERROR in f.flags and "did not match the schema" in f.error for f in review.findings)
    assert review.usage.calls == 2  # the tokens of invalid answers are counted too


def test_a_body_that_is_not_a_chat_completion_is_asked_again(rubric, settings):
    def once(body, number):
        return Reply(body=b"<html>gateway</html>") if number == 1 else missing_answer(body, number)

    with FakeOpenAIServer(once) as server:
        assert review_with(server, rubric, settings, criteria_per_call=9).error_count == 0


def test_a_refusal_is_asked_again_then_reported_per_criterion(rubric, settings):
    refusal = completion(None, refusal="I can't help with grading this vendor.")
    with FakeOpenAIServer(lambda body, n: refusal) as server:
        review = review_with(server, rubric, settings, criteria_per_call=9, answer_attempts=2)
    assert len(server.received) == 2
    assert review.error_count == 9
    assert all(f.grade is None and "refused" in f.error for f in review.findings)


def test_a_truncated_answer_is_asked_again_and_never_graded(rubric, settings):
    def truncated_once(body, number):
        if number == 1:
            return completion(answer(body).body["choices"][0]["message"]["content"], finish_reason="length")
        return missing_answer(body, number)

    with FakeOpenAIServer(truncated_once) as server:
        assert review_with(server, rubric, settings, criteria_per_call=9).error_count == 0
    assert len(server.received) == 2  # the first, complete-looking JSON was not trusted

    with FakeOpenAIServer(lambda body, n: completion('{"findings": [', finish_reason="length")) as server:
        review = review_with(server, rubric, settings, criteria_per_call=9, answer_attempts=2)
    assert review.error_count == 9 and all("truncated" in f.error for f in review.findings)


def test_a_server_without_json_schema_is_asked_in_json_mode_with_the_schema_in_the_prompt(rubric, settings):
    def no_json_schema(body, number):
        if body["response_format"]["type"] == "json_schema":
            return error(400, "response_format type json_schema is not supported")
        return missing_answer(body, number)

    with FakeOpenAIServer(no_json_schema) as server:
        review = review_with(server, rubric, settings)

    assert review.error_count == 0
    kinds = [b["response_format"]["type"] for b in server.bodies]
    assert kinds == ["json_schema", "json_object", "json_object"]  # the second group goes straight to JSON mode
    fallback = server.bodies[1]["messages"][-1]["content"]
    assert "JSON Schema" in fallback and '"criterion_id"' in fallback
    assert any(w.code == "json_mode" for w in review.warnings)


def test_a_fenced_json_answer_is_accepted(rubric, settings):
    def fenced(body, number):
        text = answer(body).body["choices"][0]["message"]["content"]
        return completion(f"```json\n{text}\n```")

    with FakeOpenAIServer(fenced) as server:
        assert review_with(server, rubric, settings).error_count == 0


def test_rejected_credentials_are_a_configuration_error_naming_the_setting(rubric, settings):
    with (
        FakeOpenAIServer(lambda body, n: error(401, "bad key")) as server,
        pytest.raises(ConfigurationError, match="REVIEWER_OPENAI_API_KEY"),
    ):
        review_with(server, rubric, settings, openai={"api_key": SecretStr("wrong-key-0123456789")})


def test_an_unreachable_server_is_an_error_per_criterion(rubric, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAICompatibleBackend(
        settings.updated(openai={"base_url": f"http://127.0.0.1:{port}/v1", "model": "m", "max_retries": 1}),
        retry_base_seconds=0,
    )
    review = asyncio.run(review_document(make_document(PAGE_1), rubric, backend))
    assert review.error_count == 9
    assert all(f.grade is None and "could not reach 127.0.0.1" in f.error for f in review.findings)


def test_the_base_url_gets_v1_only_when_it_has_no_path():
    assert chat_url("http://127.0.0.1:11434") == "http://127.0.0.1:11434/v1/chat/completions"
    assert chat_url("http://127.0.0.1:8000/v1/") == "http://127.0.0.1:8000/v1/chat/completions"
    assert chat_url("https://x.openai.azure.com/openai/v1") == "https://x.openai.azure.com/openai/v1/chat/completions"
    with pytest.raises(ConfigurationError, match="REVIEWER_OPENAI_BASE_URL"):
        chat_url("localhost:8000")


def test_the_backend_is_found_by_name_and_needs_a_base_url_and_a_model(settings):
    with pytest.raises(ConfigurationError, match="set REVIEWER_OPENAI_BASE_URL"):
        create_backend("openai_compatible", settings)
    with pytest.raises(ConfigurationError, match="set REVIEWER_OPENAI_MODEL"):
        create_backend("openai_compatible", settings.updated(openai={"base_url": "http://127.0.0.1:1/v1"}))
    configured = settings.updated(openai={"base_url": "http://127.0.0.1:1/v1", "model": "m"})
    assert create_backend("openai_compatible", configured).name == "openai_compatible"


def test_cli_review_without_a_base_url_is_one_line_naming_the_setting(capsys):
    code = main(["review", str(SAMPLES / "coral_data.pdf"), "--backend", "openai_compatible"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and "set REVIEWER_OPENAI_BASE_URL" in err


def test_cli_review_and_eval_run_through_the_endpoint_with_the_model_given(capsys, monkeypatch):
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("REVIEWER_OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("REVIEWER_OPENAI_MODEL", "llama-4")
        code = main(["review", str(SAMPLES / "coral_data.pdf"), "--backend", "openai_compatible", "--format", "json"])
        out = capsys.readouterr().out
        assert code == 0
        review = Review.model_validate_json(out)
        assert review.backend == "openai_compatible" and review.model == "llama-4" and review.error_count == 0
        assert {b["model"] for b in server.bodies} == {"llama-4"}

        monkeypatch.setenv("REVIEWER_BACKEND", "openai_compatible")
        argv = ["eval", "--samples", "--model", "mistral-small", "--limit", "1", "--no-progress", "--format", "json"]
        code = main(argv)
        [report] = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["backend"] == "openai_compatible" and report["model"] == "mistral-small"
    assert server.bodies[-1]["model"] == "mistral-small"


def test_api_review_through_the_endpoint_records_its_model(tmp_path):
    from reviewer.config import OpenAISettings
    from tests.test_api import make_client, upload, wait_for

    with FakeOpenAIServer() as server:
        openai = OpenAISettings(base_url=f"{server.url}/v1", model="llama-4")
        with make_client(tmp_path, openai=openai) as client:
            created = upload(client, backend="openai_compatible", params="?wait=true")
            assert created.status_code in (200, 201, 202), created.text
            body = wait_for(client, created.json()["id"])
    assert body["status"] == "done"
    assert body["model"] == "llama-4"
    assert {b["model"] for b in server.bodies} == {"llama-4"}


def test_the_backend_does_not_import_the_anthropic_sdk():
    import subprocess
    import sys

    probe = "import sys, reviewer.grading.openai_compatible; print('anthropic' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
