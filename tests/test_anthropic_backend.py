import asyncio
import json

import anthropic
import pytest

from reviewer.errors import ConfigurationError
from reviewer.grading.anthropic_backend import AnthropicBackend, make_client, split_into_groups
from reviewer.grading.prompts import GRADING_PROMPT
from reviewer.pipeline import review_document
from reviewer.review import FindingFlag, Grade
from tests.conftest import make_document
from tests.fake_anthropic import (
    FakeAnthropic,
    error_response,
    message_response,
    missing_answer,
    requested_ids,
)

PAGE_1 = "Acme AI proposal.\nWe run our own document AI product in production for 40 customers since 2019."
PAGE_2 = "Acceptance: the model is accepted at an accuracy of at least 92% on the agreed evaluation set."


def review_with(fake: FakeAnthropic, rubric, settings, pages=(PAGE_1, PAGE_2), **overrides):
    model = overrides.pop("model", None)
    settings = settings.with_model(model).updated(grading=overrides)
    backend = AnthropicBackend(settings, client=fake.client())
    return asyncio.run(review_document(make_document(*pages), rubric, backend))


def test_requests_carry_model_page_marked_document_every_criterion_cache_breakpoint_and_schema(rubric, settings):
    fake = FakeAnthropic()
    review_with(fake, rubric, settings, model="claude-haiku-5-5")

    assert len(fake.requests) == 2  # nine criteria, five per call
    asked = [cid for body in fake.requests for cid in requested_ids(body)]
    assert sorted(asked) == sorted(rubric.criterion_ids)
    for body in fake.requests:
        assert body["model"] == "claude-haiku-5-5"
        document_block, task_block = body["messages"][0]["content"]
        assert document_block["cache_control"] == {"type": "ephemeral"}
        assert '<page number="1">\nAcme AI proposal.' in document_block["text"]
        assert '<page number="2">\nAcceptance:' in document_block["text"]
        assert "cache_control" not in task_block
        for cid in rubric.criterion_ids:
            assert f"`{cid}`" in body["system"]
        assert "untrusted" in body["system"]
        schema = body["output_config"]["format"]
        assert schema["type"] == "json_schema"
        assert rubric.criterion_ids == schema["schema"]["$defs"]["RawFinding"]["properties"]["criterion_id"]["enum"]
    first, second = fake.requests
    assert first["system"] == second["system"]
    assert first["messages"][0]["content"][0] == second["messages"][0]["content"][0]


def test_valid_answer_becomes_findings_with_verified_quotes_usage_and_cost(rubric, settings):
    def answer(body, number):
        findings = []
        for cid in requested_ids(body):
            if cid == "acceptance_criteria":
                findings.append(
                    {
                        "criterion_id": cid,
                        "grade": "met",
                        "rationale": "A numeric bar.",
                        "citations": [{"page": 2, "quote": "accepted at an accuracy of at least 92%"}],
                        "clarification_question": None,
                    }
                )
            else:
                findings.append(
                    {
                        "criterion_id": cid,
                        "grade": "missing",
                        "rationale": "Not addressed.",
                        "citations": [],
                        "clarification_question": "Please explain.",
                    }
                )
        usage = {
            "input_tokens": 50,
            "output_tokens": 400,
            "cache_creation_input_tokens": 2000 if number == 1 else 0,
            "cache_read_input_tokens": 0 if number == 1 else 2000,
        }
        return message_response({"findings": findings, "vendor_name": "Acme AI"}, usage=usage)

    review = review_with(FakeAnthropic(answer), rubric, settings)
    finding = next(f for f in review.findings if f.criterion_id == "acceptance_criteria")
    assert finding.grade is Grade.MET
    assert finding.citations[0].verified and finding.citations[0].page == 2
    assert review.vendor_name == "Acme AI"
    assert review.model == settings.anthropic.model
    assert review.prompt_version == GRADING_PROMPT
    assert review.usage.calls == 2
    assert review.usage.input_tokens == 100
    assert review.usage.output_tokens == 800
    assert review.usage.cache_creation_input_tokens == 2000
    assert review.usage.cache_read_input_tokens == 2000
    expected = (100 + 1.25 * 2000 + 0.1 * 2000) * 2.0 / 1e6 + 800 * 10.0 / 1e6
    assert review.usage.estimated_cost_usd == pytest.approx(expected)


def test_unparseable_answer_is_asked_again_and_the_second_answer_is_used(rubric, settings):
    def answer(body, number):
        if number == 1:
            return message_response('{"findings": [{"criterion_id": "evaluation_first", "grade": "gre')
        return missing_answer(body, number)

    fake = FakeAnthropic(answer)
    review = review_with(fake, rubric, settings)
    assert len(fake.requests) == 3
    assert review.error_count == 0
    assert review.usage.calls == 3


def test_overloaded_529_is_retried_by_the_sdk_and_then_succeeds(rubric, settings):
    def answer(body, number):
        return error_response(529, "Overloaded") if number == 1 else missing_answer(body, number)

    fake = FakeAnthropic(answer)
    review = review_with(fake, rubric, settings)
    assert review.error_count == 0
    assert len(fake.requests) == 3
    assert fake.headers[1].get("x-stainless-retry-count") == "1"


def test_quote_that_is_not_in_the_document_is_unverified_and_the_grade_unsupported(rubric, settings):
    def answer(body, number):
        findings = [
            {
                "criterion_id": cid,
                "grade": "met" if cid == "evaluation_first" else "missing",
                "rationale": "r",
                "citations": [{"page": 1, "quote": "We publish F1 on a 5,000-item gold set."}]
                if cid == "evaluation_first"
                else [],
            }
            for cid in requested_ids(body)
        ]
        return message_response({"findings": findings})

    review = review_with(FakeAnthropic(answer), rubric, settings)
    finding = review.findings[0]
    assert finding.grade is Grade.MET
    assert not finding.citations[0].verified
    assert FindingFlag.UNSUPPORTED in finding.flags
    assert finding.score == 0.0


def test_unknown_criterion_id_is_an_invalid_answer_and_persistent_failure_is_an_error(rubric, settings):
    def answer(body, number):
        ids = requested_ids(body)
        if "handover" in ids:
            ids = [*ids[:-1], "vendor_is_nice"]
        findings = [{"criterion_id": cid, "grade": "missing", "rationale": "r", "citations": []} for cid in ids]
        return message_response({"findings": findings})

    fake = FakeAnthropic(answer)
    review = review_with(fake, rubric, settings, answer_attempts=3)
    assert len(fake.requests) == 1 + 3
    failed = [f for f in review.findings if f.error]
    assert {f.criterion_id for f in failed} == set(requested_ids(fake.requests[-1]))
    assert all("unknown criterion ids ['vendor_is_nice']" in f.error for f in failed)
    assert all(f.grade is None for f in failed)
    assert review.error_count == 4
    assert review.usage.calls == 4


def test_truncated_answer_is_retried(rubric, settings):
    def answer(body, number):
        if number == 1:
            return message_response('{"findings": [', stop_reason="max_tokens")
        return missing_answer(body, number)

    fake = FakeAnthropic(answer)
    assert review_with(fake, rubric, settings).error_count == 0
    assert len(fake.requests) == 3


def test_persistent_server_error_is_reported_per_criterion_never_as_missing(rubric, settings):
    fake = FakeAnthropic(lambda body, number: error_response(500, "internal trouble"))
    review = review_with(fake, rubric, settings)
    assert review.error_count == 9
    assert all(f.grade is None and "500" in f.error for f in review.findings)


def test_rejected_api_key_is_a_configuration_error(rubric, settings):
    fake = FakeAnthropic(lambda body, number: error_response(401, "invalid x-api-key"))
    with pytest.raises(ConfigurationError, match="ANTHROPIC_API_KEY"):
        review_with(fake, rubric, settings)


def test_first_call_warms_the_cache_before_the_others_run_concurrently(rubric, settings):
    fake = FakeAnthropic(delay=0.05)
    review_with(fake, rubric, settings, criteria_per_call=3, concurrency=4)
    assert len(fake.requests) == 3
    events = {(kind, n): t for kind, n, t in fake.timeline}
    assert events[("start", 2)] >= events[("end", 1)]
    assert events[("start", 3)] >= events[("end", 1)]
    assert events[("start", 3)] < events[("end", 2)]  # 2 and 3 overlap


def test_concurrency_bound_is_respected(rubric, settings):
    fake = FakeAnthropic(delay=0.02)
    review_with(fake, rubric, settings, criteria_per_call=1, concurrency=2)
    running, peak = 0, 0
    for kind, _, _ in sorted(fake.timeline, key=lambda e: (e[2], e[0] == "start")):
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert peak == 2


def test_missing_api_key_is_a_one_line_error_saying_how_to_set_it(settings):
    with pytest.raises(ConfigurationError) as caught:
        make_client(settings)
    assert "ANTHROPIC_API_KEY" in caught.value.message
    assert "\n" not in caught.value.message


def test_client_honours_key_and_base_url_from_the_environment(monkeypatch):
    from reviewer.config import Settings

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-real-looking-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9999/gateway")
    client = make_client(Settings())
    assert isinstance(client, anthropic.AsyncAnthropic)
    assert client.api_key == "sk-ant-real-looking-key"
    assert str(client.base_url).startswith("http://127.0.0.1:9999/gateway")


def test_placeholder_key_counts_as_no_key(monkeypatch):
    from reviewer.config import Settings

    monkeypatch.setenv("ANTHROPIC_API_KEY", "changeme")
    assert not Settings().has_api_key


def test_groups_are_balanced():
    sizes = [len(g) for g in split_into_groups(list(range(9)), 5)]
    assert sizes == [5, 4]
    assert [len(g) for g in split_into_groups(list(range(9)), 9)] == [9]
    assert [len(g) for g in split_into_groups(list(range(10)), 4)] == [4, 3, 3]


def test_request_bodies_are_json_serialisable_and_contain_no_api_key(rubric, settings):
    fake = FakeAnthropic()
    review_with(fake, rubric, settings)
    assert "test-key" not in json.dumps(fake.requests)


def test_long_document_over_the_budget_sends_each_group_its_own_excerpts(rubric, settings):
    filler = "This section describes general company history and office locations in some detail. " * 12
    pages = [filler] * 20
    pages[6] = filler + "All client data is stored in the EU region and never sent to external model APIs."
    pages[13] = filler + "Acceptance requires accuracy of at least 92% on the agreed evaluation set."

    def answer(body, number):
        findings = []
        for cid in requested_ids(body):
            cited = cid == "data_safety"
            findings.append(
                {
                    "criterion_id": cid,
                    "grade": "met" if cited else "missing",
                    "rationale": "r",
                    "citations": [{"page": 7, "quote": "stored in the EU region and never sent"}] if cited else [],
                    "clarification_question": None if cited else "q?",
                }
            )
        return message_response({"findings": findings, "injection_attempts": [], "vendor_name": None})

    fake = FakeAnthropic(answer)
    review = review_with(fake, rubric, settings, pages=pages, document_token_budget=1_000)
    blocks = [body["messages"][0]["content"][0]["text"] for body in fake.requests]
    whole = sum(len(p) for p in pages)
    assert all('excerpts="true"' in block and len(block) < whole for block in blocks)
    assert blocks[0] != blocks[1]
    data_group = next(b for b, body in zip(blocks, fake.requests, strict=True) if "data_safety" in requested_ids(body))
    assert '<page number="7">' in data_group and "EU region" in data_group
    assert all("excerpts" in body["messages"][0]["content"][1]["text"] for body in fake.requests)
    assert any(w.code == "excerpts_only" for w in review.warnings)
    finding = next(f for f in review.findings if f.criterion_id == "data_safety")
    assert finding.citations[0].verified and finding.citations[0].page == 7


def test_document_within_the_budget_is_sent_whole_to_every_group(rubric, settings):
    fake = FakeAnthropic()
    review = review_with(fake, rubric, settings)
    assert all('excerpts="true"' not in body["messages"][0]["content"][0]["text"] for body in fake.requests)
    assert not any(w.code == "excerpts_only" for w in review.warnings)


def test_a_blind_document_comes_with_a_note_naming_its_placeholders_and_a_plain_one_without(rubric, settings):
    from reviewer.masking import MaskingPolicy

    pages = ("Acme AI Ltd proposal. Contact jane.doe@acme.example for details.", PAGE_2)
    blind = FakeAnthropic()
    backend = AnthropicBackend(settings, client=blind.client())
    review = asyncio.run(review_document(make_document(*pages), rubric, backend, masking=MaskingPolicy(blind=True)))
    for body in blind.requests:
        document_block, task_block = body["messages"][0]["content"]
        assert "Acme" not in document_block["text"] and "[VENDOR]" in document_block["text"]
        note = task_block["text"]
        assert "replaced by placeholders" in note and "[VENDOR]" in note and "[EMAIL-1]" in note
        assert "[VENDOR] is the company that submitted the proposal" in note
    assert review.prompt_version == GRADING_PROMPT == "grading/v2"

    sighted = FakeAnthropic()
    review_with(sighted, rubric, settings, redact_personal_data=False)
    assert all("placeholders" not in body["messages"][0]["content"][1]["text"] for body in sighted.requests)


def test_redaction_alone_names_its_placeholders_without_a_vendor(rubric, settings):
    fake = FakeAnthropic()
    review_with(fake, rubric, settings, pages=("Call +44 20 7946 0958 about this proposal.", PAGE_2))
    note = fake.requests[0]["messages"][0]["content"][1]["text"]
    assert "[PHONE-1]" in note and "company that submitted" not in note
