"""The bedrock and vertex backends: the SDK's real AnthropicBedrock / AnthropicVertex clients against the
fake Messages server on 127.0.0.1 (base_url pointed at it), with fake AWS credentials and a fake token."""

import asyncio
import json
import sys

import pytest

from reviewer.cli import main
from reviewer.errors import ConfigurationError
from reviewer.grading.base import create_backend
from reviewer.grading.cloud import base_model_name, create_vertex_backend
from reviewer.pipeline import review_document
from reviewer.review import Grade, Review
from tests.conftest import make_document
from tests.fake_anthropic_server import FakeAnthropicServer
from tests.test_cli import SAMPLES

PAGE_1 = "Acme AI proposal.\nWe run our own document AI product in production for 40 customers since 2019."
PAGE_2 = "Acceptance: the model is accepted at an accuracy of at least 92% on the agreed evaluation set."
QUOTES = {"acceptance_criteria": (2, "accepted at an accuracy of at least 92%")}
USAGE = {"input_tokens": 50, "output_tokens": 400, "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 0}
BEDROCK_MODEL = "anthropic.claude-sonnet-5-5-v1:0"
VERTEX_MODEL = "claude-sonnet-5-5@20260101"


@pytest.fixture
def aws(monkeypatch, tmp_path):
    """Fake AWS credentials in the environment, and nothing else the AWS chain could find."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK", "ANTHROPIC_BEDROCK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFAKEFAKEFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    return monkeypatch


def bedrock_settings(settings, server, **bedrock):
    return settings.updated(bedrock={"region": "eu-west-3", "model": BEDROCK_MODEL, "base_url": server.url, **bedrock})


def vertex_settings(settings, server, **vertex):
    options = {"project": "acme-rfp", "region": "europe-west1", "model": VERTEX_MODEL, "base_url": f"{server.url}/v1"}
    return settings.updated(vertex={**options, **vertex})


def run(backend):
    return asyncio.run(review_document(make_document(PAGE_1, PAGE_2), _rubric(), backend))


def _rubric():
    from reviewer.rubric import load_rubric

    return load_rubric()


def assert_review_with_verified_quote_and_usage(review: Review, model: str, calls: int) -> None:
    finding = next(f for f in review.findings if f.criterion_id == "acceptance_criteria")
    assert finding.grade is Grade.MET
    assert finding.citations[0].verified and finding.citations[0].page == 2
    assert review.error_count == 0
    assert review.model == model
    assert review.usage.calls == calls
    assert review.usage.input_tokens == 50 * calls and review.usage.output_tokens == 400 * calls
    assert review.usage.cache_creation_input_tokens == 2000 * calls
    # priced as claude-sonnet-5-5 from the Anthropic table (2 / 10 US$ per million)
    expected = calls * ((50 + 1.25 * 2000) * 2.0 + 400 * 10.0) / 1e6
    assert review.usage.estimated_cost_usd == pytest.approx(expected)
    assert not any(w.code == "no_price" for w in review.warnings)


# --- Bedrock ----------------------------------------------------------------------------------


def test_bedrock_review_posts_signed_requests_to_the_model_invoke_path(aws, settings):
    pytest.importorskip("boto3", reason="SigV4 signing needs boto3 (pip install 'reviewer[bedrock]')")
    with FakeAnthropicServer(quotes=QUOTES, usage=USAGE) as server:
        backend = create_backend("bedrock", bedrock_settings(settings, server))
        review = run(backend)
    assert backend.name == "bedrock"
    assert server.paths == [f"/model/{BEDROCK_MODEL}/invoke"] * 2  # nine criteria, five per call
    for body, headers in zip(server.bodies, server.headers, strict=True):
        assert "model" not in body and body["anthropic_version"]  # the platform's body shape
        assert body["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
        assert body["output_config"]["format"]["type"] == "json_schema"
        assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDFAKEFAKEFAKE/")
        assert "/eu-west-3/bedrock/aws4_request" in headers["authorization"]
        assert "x-api-key" not in headers
    assert_review_with_verified_quote_and_usage(review, BEDROCK_MODEL, calls=2)


def test_bedrock_429_and_503_are_retried_by_the_sdk(aws, settings):
    pytest.importorskip("boto3", reason="SigV4 signing needs boto3 (pip install 'reviewer[bedrock]')")
    with FakeAnthropicServer(failures=[429, 503], quotes=QUOTES, usage=USAGE) as server:
        review = run(create_backend("bedrock", bedrock_settings(settings, server)))
    assert len(server.paths) == 4
    assert server.headers[1].get("x-stainless-retry-count") == "1"
    assert server.headers[2].get("x-stainless-retry-count") == "2"
    assert_review_with_verified_quote_and_usage(review, BEDROCK_MODEL, calls=2)


def test_bedrock_api_key_is_sent_as_a_bearer_token_without_boto3(aws, settings, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-fake")
    monkeypatch.setitem(sys.modules, "boto3", None)  # an import of boto3 would fail
    with FakeAnthropicServer(quotes=QUOTES, usage=USAGE) as server:
        review = run(create_backend("bedrock", bedrock_settings(settings, server)))
    assert {h["authorization"] for h in server.headers} == {"Bearer bedrock-api-key-fake"}
    assert review.error_count == 0


def test_bedrock_persistent_server_error_is_reported_per_criterion_naming_bedrock(aws, settings):
    pytest.importorskip("boto3", reason="SigV4 signing needs boto3 (pip install 'reviewer[bedrock]')")
    with FakeAnthropicServer(failures=[500] * 20) as server:
        review = run(create_backend("bedrock", bedrock_settings(settings, server)))
    assert review.error_count == 9
    assert all(f.grade is None and "Amazon Bedrock had an internal error (HTTP 500" in f.error for f in review.findings)


def test_rejected_credentials_stop_the_review_with_one_line_naming_the_platform(settings):
    with FakeAnthropicServer(failures=[401]) as server, pytest.raises(ConfigurationError) as caught:
        run(create_vertex_backend(vertex_settings(settings, server), access_token="ya29.expired"))
    assert caught.value.message.startswith("Google Vertex AI rejected the credentials")
    assert "ANTHROPIC_API_KEY" not in caught.value.message


def test_a_platform_refusing_structured_output_is_asked_with_the_schema_in_the_prompt(aws, settings):
    pytest.importorskip("boto3", reason="SigV4 signing needs boto3 (pip install 'reviewer[bedrock]')")
    refusal = {"type": "error", "error": {"type": "validation_error", "message": "output_config: Extra inputs"}}
    with FakeAnthropicServer(failures=[(400, refusal)], quotes=QUOTES, usage=USAGE) as server:
        review = run(create_backend("bedrock", bedrock_settings(settings, server)))
    first, *rest = server.bodies
    assert "output_config" in first and len(rest) == 2
    assert all("output_config" not in body for body in rest)
    assert all('"criterion_id"' in body["messages"][0]["content"][-1]["text"] for body in rest)
    assert any(w.code == "json_mode" and "Amazon Bedrock" in w.message for w in review.warnings)
    assert_review_with_verified_quote_and_usage(review, BEDROCK_MODEL, calls=2)


def test_any_other_bad_request_is_not_mistaken_for_a_structured_output_refusal(aws, settings):
    pytest.importorskip("boto3", reason="SigV4 signing needs boto3 (pip install 'reviewer[bedrock]')")
    bad = {"type": "error", "error": {"type": "validation_error", "message": "prompt is too long"}}
    with FakeAnthropicServer(failures=[(400, bad)]) as server:
        review = run(create_backend("bedrock", bedrock_settings(settings, server)))
    assert all("output_config" in body for body in server.bodies)
    assert not any(w.code == "json_mode" for w in review.warnings)
    assert review.error_count == 5  # the refused group only


@pytest.mark.parametrize(
    ("bedrock", "named"),
    [({"region": None}, "REVIEWER_BEDROCK_REGION"), ({"model": None}, "REVIEWER_BEDROCK_MODEL")],
)
def test_bedrock_missing_setting_is_one_line_naming_it(aws, settings, monkeypatch, bedrock, named):
    monkeypatch.delenv("AWS_REGION")
    with FakeAnthropicServer() as server, pytest.raises(ConfigurationError) as caught:
        create_backend("bedrock", bedrock_settings(settings, server, **bedrock))
    assert named in caught.value.message and "\n" not in caught.value.message
    assert server.requests == 0


def test_bedrock_without_aws_credentials_is_one_line_saying_how_to_set_them(aws, settings, monkeypatch):
    pytest.importorskip("boto3", reason="the credential chain is boto3's")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    with FakeAnthropicServer() as server, pytest.raises(ConfigurationError) as caught:
        create_backend("bedrock", bedrock_settings(settings, server))
    assert "AWS_ACCESS_KEY_ID" in caught.value.message and "AWS_PROFILE" in caught.value.message
    assert "\n" not in caught.value.message


def test_bedrock_region_falls_back_to_aws_region(aws, monkeypatch):
    from reviewer.config import BedrockSettings

    monkeypatch.delenv("REVIEWER_BEDROCK_REGION", raising=False)
    assert BedrockSettings().region == "eu-west-3"
    monkeypatch.setenv("REVIEWER_BEDROCK_REGION", "us-west-2")
    assert BedrockSettings().region == "us-west-2"


def test_cli_review_and_eval_run_on_bedrock_with_the_model_given(aws, capsys, monkeypatch):
    pytest.importorskip("boto3", reason="SigV4 signing needs boto3 (pip install 'reviewer[bedrock]')")
    with FakeAnthropicServer() as server:
        monkeypatch.setenv("REVIEWER_BEDROCK_BASE_URL", server.url)
        monkeypatch.setenv("REVIEWER_BEDROCK_MODEL", BEDROCK_MODEL)
        code = main(["review", str(SAMPLES / "coral_data.pdf"), "--backend", "bedrock", "--format", "json"])
        review = Review.model_validate_json(capsys.readouterr().out)
        assert code == 0
        assert review.backend == "bedrock" and review.model == BEDROCK_MODEL and review.error_count == 0
        assert set(server.paths) == {f"/model/{BEDROCK_MODEL}/invoke"}

        other = "us.anthropic.claude-haiku-5-5-v1:0"
        argv = ["eval", "--samples", "--backend", "bedrock", "--model", other, "--limit", "1", "--no-progress"]
        code = main([*argv, "--format", "json"])
        [report] = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["backend"] == "bedrock" and report["model"] == other
    assert server.paths[-1] == f"/model/{other}/invoke"


def test_cli_review_on_bedrock_without_a_model_is_one_line(aws, capsys, monkeypatch):
    monkeypatch.delenv("REVIEWER_BEDROCK_MODEL", raising=False)
    code = main(["review", str(SAMPLES / "coral_data.pdf"), "--backend", "bedrock"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and "REVIEWER_BEDROCK_MODEL" in err


# --- Vertex AI --------------------------------------------------------------------------------


def test_vertex_review_posts_to_the_raw_predict_path_with_the_access_token(settings):
    with FakeAnthropicServer(quotes=QUOTES, usage=USAGE) as server:
        backend = create_vertex_backend(vertex_settings(settings, server), access_token="ya29.fake-token")
        review = run(backend)
    path = f"/v1/projects/acme-rfp/locations/europe-west1/publishers/anthropic/models/{VERTEX_MODEL}:rawPredict"
    assert server.paths == [path] * 2
    for body, headers in zip(server.bodies, server.headers, strict=True):
        assert "model" not in body and body["anthropic_version"]
        assert body["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
        assert body["output_config"]["format"]["type"] == "json_schema"
        assert headers["authorization"] == "Bearer ya29.fake-token"
    assert backend.name == "vertex"
    assert_review_with_verified_quote_and_usage(review, VERTEX_MODEL, calls=2)


def test_vertex_429_and_500_are_retried_by_the_sdk(settings):
    with FakeAnthropicServer(failures=[429, 500], quotes=QUOTES, usage=USAGE) as server:
        review = run(create_vertex_backend(vertex_settings(settings, server), access_token="ya29.fake-token"))
    assert len(server.paths) == 4
    assert server.headers[2].get("x-stainless-retry-count") == "2"
    assert_review_with_verified_quote_and_usage(review, VERTEX_MODEL, calls=2)


@pytest.mark.parametrize(
    ("vertex", "named"),
    [
        ({"project": None}, "REVIEWER_VERTEX_PROJECT"),
        ({"region": None}, "REVIEWER_VERTEX_REGION"),
        ({"model": None}, "REVIEWER_VERTEX_MODEL"),
    ],
)
def test_vertex_missing_setting_is_one_line_naming_it(settings, vertex, named):
    with FakeAnthropicServer() as server, pytest.raises(ConfigurationError) as caught:
        create_vertex_backend(vertex_settings(settings, server, **vertex), access_token="ya29.fake-token")
    assert named in caught.value.message and "\n" not in caught.value.message


def test_vertex_without_google_auth_says_how_to_install_it(settings, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.auth", None)  # as when google-auth is not installed
    monkeypatch.setitem(sys.modules, "google", None)
    with FakeAnthropicServer() as server, pytest.raises(ConfigurationError) as caught:
        create_backend("vertex", vertex_settings(settings, server))
    assert "reviewer[vertex]" in caught.value.message and "\n" not in caught.value.message
    assert server.requests == 0


def test_cli_review_on_vertex_without_a_project_is_one_line(capsys, monkeypatch):
    monkeypatch.delenv("REVIEWER_VERTEX_PROJECT", raising=False)
    code = main(["review", str(SAMPLES / "coral_data.pdf"), "--backend", "vertex", "--model", VERTEX_MODEL])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and "REVIEWER_VERTEX_PROJECT" in err


def test_platform_model_ids_price_as_their_anthropic_model():
    assert base_model_name("anthropic.claude-sonnet-5-5-v1:0") == "claude-sonnet-5-5"
    assert base_model_name("us.anthropic.claude-haiku-5-5-20260101-v1:0") == "claude-haiku-5-5"
    assert base_model_name("claude-opus-5-5@20260101") == "claude-opus-5-5"
    assert base_model_name("claude-sonnet-5-5") == "claude-sonnet-5-5"


# --- Vertex AI with Application Default Credentials (google-auth, the vertex extra) -----------


@pytest.fixture
def google_key(monkeypatch, tmp_path):
    """A service-account key file whose token endpoint is a fake on loopback; GOOGLE_APPLICATION_CREDENTIALS
    names it, and google-auth is kept from looking for a metadata server."""
    pytest.importorskip("google.auth", reason="google-auth is the vertex extra: pip install 'reviewer[vertex]'")
    from tests.fake_google_token_server import FakeGoogleTokenServer

    def start(host_name: str = "127.0.0.1") -> FakeGoogleTokenServer:
        tokens = FakeGoogleTokenServer(host_name)
        tokens.__enter__()
        started.append(tokens)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tokens.write_key_file(tmp_path / "key.json")))
        return tokens

    started: list = []
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    yield start
    for tokens in started:
        tokens.__exit__(None, None, None)


def test_vertex_signs_in_with_a_service_account_key_through_google_auth(settings, google_key):
    from tests.fake_google_token_server import ACCESS_TOKEN, CLIENT_EMAIL

    tokens = google_key()
    with FakeAnthropicServer(quotes=QUOTES, usage=USAGE) as server:
        review = run(create_backend("vertex", vertex_settings(settings, server)))
    assert tokens.requests >= 1 and len(tokens.claims) == tokens.requests  # every assertion signed with the key
    claims = tokens.claims[0]
    assert claims["iss"] == CLIENT_EMAIL and claims["aud"] == "https://oauth2.googleapis.com/token"  # as Google signs
    assert "https://www.googleapis.com/auth/cloud-platform" in claims["scope"].split()
    assert [h["authorization"] for h in server.headers] == [f"Bearer {ACCESS_TOKEN}"] * 2
    assert_review_with_verified_quote_and_usage(review, VERTEX_MODEL, calls=2)


def test_vertex_token_exchange_is_logged_as_egress_and_held_to_the_allowed_hosts(settings, google_key):
    from reviewer.egress import EgressRefused, egress_scope

    class Recorder:
        def __init__(self) -> None:
            self.records: list = []

        def record_egress(self, records):
            self.records.extend(records)

    recorder = Recorder()
    tokens = google_key()
    with FakeAnthropicServer(quotes=QUOTES, usage=USAGE) as server:
        backend = create_backend("vertex", vertex_settings(settings, server))

        async def graded():
            with egress_scope(recorder, "r1"):
                return await review_document(make_document(PAGE_1, PAGE_2), _rubric(), backend)

        asyncio.run(graded())
    signing_in = [r for r in recorder.records if r.purpose == "authentication"]
    assert len(signing_in) == tokens.requests >= 1
    assert {(r.provider, r.host, r.method, r.path, r.review_id) for r in signing_in} == {
        ("vertex", "127.0.0.1", "POST", "/token", "r1")
    }
    assert all(r.bytes_sent > 500 for r in signing_in)  # the signed assertion, hashed, never stored

    elsewhere = google_key("localhost")  # the token endpoint on a host the list does not name
    allowed = vertex_settings(settings, server).updated(egress={"allowed_hosts": ["127.0.0.1"]})
    with FakeAnthropicServer(quotes=QUOTES) as server:
        backend = create_backend("vertex", allowed.updated(vertex={"base_url": f"{server.url}/v1"}))
        with pytest.raises(EgressRefused, match="localhost"):
            run(backend)
        assert server.requests == 0
    assert elsewhere.requests == 0
