"""The egress log and REVIEWER_ALLOWED_HOSTS (issue 16, data safety): every request a backend sends is one row
(host, model, bytes, SHA-256 of the body, never the body), per review; a host not listed is refused before
anything is sent. Every provider runs its real client against its fake server on 127.0.0.1."""

import asyncio
import hashlib
import json
import re
import time
from pathlib import Path

import anthropic
import httpx2
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from reviewer.cli import main
from reviewer.config import EgressSettings, OpenAISettings, Settings
from reviewer.egress import EgressRecord, EgressRefused, HostNotAllowed, egress_scope, event_hooks
from reviewer.grading.anthropic_backend import AnthropicBackend
from reviewer.grading.anthropic_batch import grade_in_batch, prepare
from reviewer.grading.base import create_backend
from reviewer.grading.cloud import create_vertex_backend
from reviewer.pipeline import review_document
from reviewer.store import JobStore, make_engine
from reviewer.store.egress import egress
from tests.conftest import make_document
from tests.fake_anthropic import FakeBatchAPI
from tests.fake_anthropic_server import FakeAnthropicServer
from tests.fake_openai_server import FakeOpenAIServer
from tests.test_api import AUTH, make_client, upload
from tests.test_cli import SAMPLES

SECRET_LINE = "Client data stays in the Lyon region and is never used for training by Acme Corp."
PAGES = ("Acme AI proposal.\nWe run our own document AI product in production.", SECRET_LINE)
PROPOSAL = str(SAMPLES / "coral_data.pdf")


class MemoryRecorder:
    def __init__(self) -> None:
        self.records: list[EgressRecord] = []

    def record_egress(self, records: list[EgressRecord]) -> None:
        self.records.extend(records)


@pytest.fixture
def store(tmp_path) -> JobStore:
    store = JobStore(make_engine(f"sqlite:///{tmp_path / 'egress.db'}"))
    yield store
    store.engine.dispose()


def stored_rows(store: JobStore) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(egress).order_by(egress.c.id)).mappings()]


def graded_in_scope(backend, store: JobStore, review_id: str = "r1"):
    async def go():
        with egress_scope(store, review_id):
            return await review_document(make_document(*PAGES), _rubric(), backend)

    return asyncio.run(go())


def _rubric():
    from reviewer.rubric import load_rubric

    return load_rubric()


def assert_one_row_per_request(store: JobStore, raw_bodies: list[bytes], *, provider: str, model: str, path: str):
    """One row per request that arrived, with its exact size and hash, and nothing of the proposal."""
    rows = stored_rows(store)
    assert len(rows) == len(raw_bodies) > 0
    assert sorted((r["bytes_sent"], r["sha256"]) for r in rows) == sorted(
        (len(raw), hashlib.sha256(raw).hexdigest()) for raw in raw_bodies
    )
    assert {(r["provider"], r["host"], r["model"], r["review_id"], r["purpose"]) for r in rows} == {
        (provider, "127.0.0.1", model, "r1", "grading")
    }
    assert {r["path"] for r in rows} == {path}
    assert all(SECRET_LINE.encode() in raw for raw in raw_bodies)  # the proposal was sent...
    assert "Lyon" not in repr(rows)  # ...and none of it is in the log


def test_anthropic_requests_are_logged_once_each_with_size_and_hash_never_content(settings, store):
    with FakeAnthropicServer() as server:
        configured = settings.updated(
            anthropic={"api_key": SecretStr("sk-ant-test-0123456789"), "base_url": server.url}
        )
        graded_in_scope(create_backend("anthropic", configured), store)
    assert_one_row_per_request(
        store, server.raw_bodies, provider="anthropic", model="claude-sonnet-5-5", path="/v1/messages"
    )


def test_a_retried_request_is_logged_for_every_attempt(settings, store):
    with FakeAnthropicServer(failures=[529]) as server:
        configured = settings.updated(
            anthropic={"api_key": SecretStr("sk-ant-test-0123456789"), "base_url": server.url}
        )
        review = graded_in_scope(create_backend("anthropic", configured), store)
    assert review.error_count == 0
    assert len(server.raw_bodies) == 3 and len(stored_rows(store)) == 3  # two groups, one retried by the SDK


def test_bedrock_requests_are_logged(settings, store, monkeypatch):
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-fake")
    model = "anthropic.claude-sonnet-5-5-v1:0"
    with FakeAnthropicServer() as server:
        configured = settings.updated(bedrock={"region": "eu-west-3", "model": model, "base_url": server.url})
        graded_in_scope(create_backend("bedrock", configured), store)
    assert_one_row_per_request(store, server.raw_bodies, provider="bedrock", model=model, path=f"/model/{model}/invoke")


def test_vertex_requests_are_logged(settings, store):
    model = "claude-sonnet-5-5@20260101"
    with FakeAnthropicServer() as server:
        vertex = {"project": "acme-rfp", "region": "europe-west1", "model": model, "base_url": f"{server.url}/v1"}
        backend = create_vertex_backend(settings.updated(vertex=vertex), access_token="fake-token")
        graded_in_scope(backend, store)
    path = f"/v1/projects/acme-rfp/locations/europe-west1/publishers/anthropic/models/{model}:rawPredict"
    assert_one_row_per_request(store, server.raw_bodies, provider="vertex", model=model, path=path)


def test_openai_compatible_requests_are_logged(settings, store):
    with FakeOpenAIServer() as server:
        configured = settings.updated(openai={"base_url": f"{server.url}/v1", "model": "llama-4"})
        graded_in_scope(create_backend("openai_compatible", configured), store)
    raw = [r.raw for r in server.received]
    assert_one_row_per_request(store, raw, provider="openai_compatible", model="llama-4", path="/v1/chat/completions")


def test_a_message_batch_logs_its_calls_for_every_review_in_it_and_a_direct_retry_for_its_own(rubric, settings):
    api = FakeBatchAPI(lambda cid: "errored" if cid == "d1-g0" else "succeeded")
    hooks = event_hooks("anthropic", settings.anthropic.model, [])
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(api.handle), event_hooks=hooks)
    client = anthropic.AsyncAnthropic(
        api_key="test-key", base_url="http://fake-anthropic.test", max_retries=0, http_client=http
    )
    backend = AnthropicBackend(settings, client=client)
    prepared = [
        prepare(backend, key, make_document(text), rubric) for key, text in (("ra", PAGES[0]), ("rb", SECRET_LINE))
    ]
    recorder = MemoryRecorder()

    async def go():
        with egress_scope(recorder, "ra", "rb", purpose="message_batch"):
            return await grade_in_batch(backend, prepared, rubric, poll_seconds=0)

    gradings = asyncio.run(go())
    assert all(not g.failures for g in gradings.values())
    by_review = {
        key: [(r.method, r.path, r.purpose) for r in recorder.records if r.review_id == key] for key in ("ra", "rb")
    }
    shared = [r for r in by_review["ra"] if r[2] == "message_batch"]
    assert shared == [r for r in by_review["rb"] if r[2] == "message_batch"]
    assert ("POST", "/v1/messages/batches", "message_batch") in shared  # the submission carried both
    assert [r for r in by_review["rb"] if r[2] == "grading"] == [("POST", "/v1/messages", "grading")]
    assert [r for r in by_review["ra"] if r[2] == "grading"] == []  # rb's retry carried rb alone
    submitted = next(r for r in recorder.records if r.path == "/v1/messages/batches" and r.method == "POST")
    assert submitted.bytes_sent > len(SECRET_LINE)


# --- through the API and the CLI ----------------------------------------------------------------


def test_a_review_s_egress_is_shown_by_the_api_and_the_cli_and_holds_no_content(tmp_path, capsys):
    with FakeOpenAIServer() as server:
        openai = OpenAISettings(base_url=f"{server.url}/v1", model="llama-4")
        with make_client(tmp_path, openai=openai) as client:
            created = upload(client, backend="openai_compatible", params="?wait=true")
            assert created.status_code == 200, created.text
            review_id = created.json()["id"]
            shown = client.get(f"/v1/reviews/{review_id}/egress", headers=AUTH)
            assert client.get(f"/v1/reviews/{review_id}/egress").status_code == 401
    assert shown.status_code == 200
    log = shown.json()
    raw = [r.raw for r in server.received]
    assert log["review_id"] == review_id and log["requests"] == len(raw) == 2
    assert log["bytes_sent"] == sum(len(b) for b in raw) and log["hosts"] == ["127.0.0.1"]
    assert sorted(i["sha256"] for i in log["items"]) == sorted(hashlib.sha256(b).hexdigest() for b in raw)
    sent_text = server.received[0].body["messages"][-1]["content"]
    longest_line = max(sent_text.splitlines(), key=len)
    assert len(longest_line) > 40 and longest_line not in shown.text

    assert main(["egress", review_id[:8], "--json"]) == 0  # the same store, from the CLI (a unique prefix)
    assert json.loads(capsys.readouterr().out) == log
    assert main(["egress", review_id]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == f"2 requests, {log['bytes_sent']:,} bytes sent to 127.0.0.1 for {review_id}"
    assert len(table) == 4 and all("llama-4" in line and "127.0.0.1" in line for line in table[2:])


def test_an_offline_review_sends_and_logs_nothing(tmp_path, capsys):
    with make_client(tmp_path) as client:
        review_id = upload(client, backend="offline", params="?wait=true").json()["id"]
        shown = client.get(f"/v1/reviews/{review_id}/egress", headers=AUTH)
        unknown = client.get("/v1/reviews/0123456789abcdef0123456789abcdef/egress", headers=AUTH)
    assert shown.status_code == 200 and shown.json()["requests"] == 0 and shown.json()["items"] == []
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert main(["egress", review_id]) == 0
    assert capsys.readouterr().out.strip() == f"no requests left this machine for {review_id}"
    assert main(["egress", "nope"]) == 2
    assert capsys.readouterr().err.strip() == "reviewer: error: no review with id 'nope'"


def test_a_one_off_cli_review_records_its_requests_under_a_run_id_the_egress_command_shows(capsys, monkeypatch):
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("REVIEWER_OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("REVIEWER_OPENAI_MODEL", "llama-4")
        assert main(["review", PROPOSAL, "--backend", "openai_compatible", "--format", "json"]) == 0
    raw = [r.raw for r in server.received]
    err = capsys.readouterr().err
    said = re.search(
        r"(\d+) requests \(([\d,]+) bytes\) left this machine for 127\.0\.0\.1; `reviewer egress (\w+)`", err
    )
    assert said, err
    assert int(said[1]) == len(raw) == 2 and int(said[2].replace(",", "")) == sum(len(b) for b in raw)
    assert main(["egress", said[3], "--json"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert log["requests"] == 2 and {i["model"] for i in log["items"]} == {"llama-4"}
    assert sorted(i["sha256"] for i in log["items"]) == sorted(hashlib.sha256(b).hexdigest() for b in raw)


def test_a_one_off_offline_cli_review_opens_no_store_and_says_nothing_of_egress(capsys):
    assert main(["review", PROPOSAL, "--backend", "offline", "--format", "json"]) == 0
    assert "left this machine" not in capsys.readouterr().err
    database = Settings.load().storage.resolved_database_url.split("///", 1)[-1]
    assert not Path(database).exists()


# --- REVIEWER_ALLOWED_HOSTS -----------------------------------------------------------------------


def test_allowed_hosts_are_read_comma_separated_and_lowercased(monkeypatch):
    monkeypatch.setenv("REVIEWER_ALLOWED_HOSTS", " API.Anthropic.com, 127.0.0.1 ,,")
    assert Settings.load().egress.allowed_hosts == ["api.anthropic.com", "127.0.0.1"]
    monkeypatch.setenv("REVIEWER_ALLOWED_HOSTS", "")
    assert Settings.load().egress.allowed_hosts == []


def one_line_refusal(capsys, argv: list[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1
    return captured.err


def test_cli_review_on_an_unlisted_openai_host_is_one_line_exit_2_and_nothing_is_sent(capsys, monkeypatch):
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("REVIEWER_OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("REVIEWER_OPENAI_MODEL", "llama-4")
        monkeypatch.setenv("REVIEWER_ALLOWED_HOSTS", "api.openai.com,localhost")
        err = one_line_refusal(capsys, ["review", PROPOSAL, "--backend", "openai_compatible"])
        assert server.received == []
        monkeypatch.setenv("REVIEWER_ALLOWED_HOSTS", "api.openai.com,127.0.0.1")
        assert main(["review", PROPOSAL, "--backend", "openai_compatible", "--format", "json"]) == 0
        assert len(server.received) == 2  # once listed, it is used
    assert "127.0.0.1" in err and "REVIEWER_ALLOWED_HOSTS" in err and "nothing was sent" in err


def test_cli_review_on_an_unlisted_anthropic_host_is_one_line_exit_2_and_nothing_is_sent(capsys, monkeypatch):
    with FakeAnthropicServer() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("REVIEWER_ALLOWED_HOSTS", "api.anthropic.com")
        err = one_line_refusal(capsys, ["review", PROPOSAL, "--backend", "anthropic"])
        assert server.requests == 0
    assert "the Anthropic API host 127.0.0.1 is not in REVIEWER_ALLOWED_HOSTS (api.anthropic.com)" in err


def test_the_default_anthropic_host_counts_when_no_base_url_is_set(settings):
    keyed = settings.updated(anthropic={"api_key": SecretStr("sk-ant-test-0123456789")})
    with pytest.raises(HostNotAllowed, match=re.escape("host api.anthropic.com is not in")):
        create_backend("anthropic", keyed.updated(egress={"allowed_hosts": ["127.0.0.1"]}))
    assert create_backend("anthropic", keyed.updated(egress={"allowed_hosts": ["api.anthropic.com"]}))


def test_bedrock_and_vertex_on_unlisted_hosts_are_refused_before_anything_is_sent(settings, monkeypatch):
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-fake")
    allowed = {"allowed_hosts": ["bedrock-runtime.eu-west-3.amazonaws.com"]}
    with FakeAnthropicServer() as server:
        bedrock = {"region": "eu-west-3", "model": "anthropic.claude-sonnet-5-5-v1:0", "base_url": server.url}
        with pytest.raises(HostNotAllowed, match=re.escape("Amazon Bedrock host 127.0.0.1")):
            create_backend("bedrock", settings.updated(bedrock=bedrock, egress=allowed))
        vertex = {"project": "p", "region": "europe-west1", "model": "claude-sonnet-5-5@1", "base_url": server.url}
        with pytest.raises(HostNotAllowed, match=re.escape("Google Vertex AI host 127.0.0.1")):
            create_vertex_backend(settings.updated(vertex=vertex, egress=allowed), access_token="t")
        assert server.requests == 0
    bedrock["base_url"] = None  # the SDK's own endpoint for the region is the host checked
    assert create_backend("bedrock", settings.updated(bedrock=bedrock, egress=allowed)).name == "bedrock"


def test_the_api_refuses_an_upload_for_an_unlisted_host_and_sends_nothing(tmp_path):
    with FakeOpenAIServer() as server:
        openai = OpenAISettings(base_url=f"{server.url}/v1", model="llama-4")
        egress_settings = EgressSettings(allowed_hosts=["api.openai.com"])
        with make_client(tmp_path, openai=openai, egress=egress_settings) as client:
            refused = upload(client, backend="openai_compatible", params="?wait=true")
        assert server.received == []
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "host_not_allowed" and "127.0.0.1" in error["message"]


def test_a_redirect_to_an_unlisted_host_is_refused_by_the_hook_and_never_sent():
    arrived: list[str] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        arrived.append(request.url.host)
        return httpx2.Response(307, headers={"location": "http://elsewhere.example/v1/messages"})

    recorder = MemoryRecorder()

    async def go():
        hooks = event_hooks("anthropic", "m", ["127.0.0.1"])
        transport = httpx2.MockTransport(handle)
        async with httpx2.AsyncClient(transport=transport, event_hooks=hooks, follow_redirects=True) as http:
            with egress_scope(recorder, "r1"), pytest.raises(EgressRefused, match=re.escape("elsewhere.example")):
                await http.post("http://127.0.0.1/v1/messages", content=b'{"a": 1}')

    asyncio.run(go())
    assert arrived == ["127.0.0.1"]
    assert [(r.host, r.bytes_sent, r.review_id) for r in recorder.records] == [("127.0.0.1", 8, "r1")]


def test_the_review_s_web_page_lists_what_left_the_machine(tmp_path):
    from fastapi.testclient import TestClient

    from reviewer.server import create_server
    from tests.web.test_routes import KEYS, make_settings, sign_in

    with FakeOpenAIServer() as server:
        settings = make_settings(tmp_path).updated(openai={"base_url": f"{server.url}/v1", "model": "llama-4"})
        with TestClient(create_server(settings)) as client:
            auth = {"Authorization": f"Bearer {KEYS['ana']}"}
            files = {"file": ("coral.pdf", (SAMPLES / "coral_data.pdf").read_bytes(), "application/pdf")}
            sent = client.post(
                "/v1/reviews?wait=true", headers=auth, files=files, data={"backend": "openai_compatible"}
            )
            offline = client.post("/v1/reviews?wait=true", headers=auth, files=files, data={"backend": "offline"})
            sign_in(client)
            page = client.get(f"/web/reviews/{sent.json()['id']}")
            quiet = client.get(f"/web/reviews/{offline.json()['id']}")
    assert page.status_code == 200 and "What left this machine" in page.text
    raw = [r.raw for r in server.received]
    assert f"{len(raw)} requests, {sum(len(b) for b in raw):,} bytes to 127.0.0.1" in page.text
    assert all(hashlib.sha256(b).hexdigest() in page.text for b in raw)
    assert "No request was sent to a model for this review." in quiet.text


def rounds_of(client, review_id: str) -> list[dict]:
    return client.get(f"/v1/reviews/{review_id}/rounds", headers=AUTH).json()["items"]


def test_a_clarification_round_s_requests_are_logged_under_its_review(tmp_path):
    from tests.pdfs import text_pdf

    with FakeOpenAIServer() as server:
        openai = OpenAISettings(base_url=f"{server.url}/v1", model="llama-4")
        with make_client(tmp_path, openai=openai) as client:
            review_id = upload(client, backend="openai_compatible", params="?wait=true").json()["id"]
            answer = text_pdf(["Answers to your questions", "Client data is kept 30 days, then deleted."])
            files = {"file": ("answer.pdf", answer, "application/pdf")}
            assert client.post(f"/v1/reviews/{review_id}/rounds", headers=AUTH, files=files).status_code == 202
            deadline = time.monotonic() + 60
            while (status := rounds_of(client, review_id)[-1]["status"]) not in ("done", "failed"):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert status == "done"
            log = client.get(f"/v1/reviews/{review_id}/egress", headers=AUTH).json()
    assert [i["purpose"] for i in log["items"]] == ["grading"] * 2 + ["clarification_round"] * 2
    assert log["requests"] == len(server.received) == 4


def test_bulk_batch_api_logs_the_batch_under_each_of_its_reviews(tmp_path):
    from reviewer.config import AnthropicSettings, JobSettings, StorageSettings
    from reviewer.queue.bulk import run_bulk
    from reviewer.rubric import RubricCatalog
    from reviewer.sources import collect_sources
    from reviewer.store import JobStatus

    folder = tmp_path / "rfp"
    folder.mkdir()
    for name in ("coral_data.pdf", "helix_systems.pdf"):
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        anthropic=AnthropicSettings(api_key="sk-ant-test-0123456789"),
        jobs=JobSettings(batch_poll_seconds=0.01, poll_seconds=0.05),
    )
    api = FakeBatchAPI(lambda cid: "errored" if cid == "d1-g0" else "succeeded")
    http = httpx2.AsyncClient(
        transport=httpx2.MockTransport(api.handle), event_hooks=event_hooks("anthropic", "claude-sonnet-5-5", [])
    )
    client = anthropic.AsyncAnthropic(
        api_key="k", base_url="http://fake-anthropic.test", max_retries=0, http_client=http
    )
    backend = AnthropicBackend(settings, client=client)
    result = asyncio.run(
        run_bulk(
            collect_sources([folder]),
            "default",
            "anthropic",
            settings,
            RubricCatalog(),
            backend_factory=lambda name, s: backend,
            batch_api=True,
        )
    )
    assert (result.reviewed, result.failed) == (2, 0)
    store = JobStore(make_engine(settings.storage.resolved_database_url))
    jobs = store.list_jobs(JobStatus.DONE, 10, 0)[0]
    logs = {job.id: [(r.method, r.path, r.purpose) for r in store.egress_of(job.id)] for job in jobs}
    store.engine.dispose()
    submission = ("POST", "/v1/messages/batches", "message_batch")
    assert all(log.count(submission) == 1 for log in logs.values())
    direct = sorted(log.count(("POST", "/v1/messages", "grading")) for log in logs.values())
    assert direct == [0, 1] and api.direct_calls == 1  # the resent request is logged under its own review only
