import asyncio
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reviewer.api.app import create_app
from reviewer.api.routes import reviews as reviews_routes
from reviewer.config import (
    AnthropicSettings,
    ApiSettings,
    GradingSettings,
    IngestSettings,
    JobSettings,
    Settings,
    StorageSettings,
)
from reviewer.grading.anthropic_backend import AnthropicBackend
from reviewer.grading.base import RawGrading, create_backend
from tests.fake_anthropic import FakeAnthropic
from tests.pdfs import encrypted, text_pdf

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
KEY = "test-api-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
SAMPLE = (SAMPLES / "coral_data.pdf").read_bytes()


class BlockingBackend:
    """A backend that grades nothing until the test lets it go."""

    name = "blocking"
    offline = False

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def grade(self, document, rubric) -> RawGrading:
        await self.release.wait()
        return RawGrading()


class ExplodingBackend:
    name = "exploding"
    offline = False

    async def grade(self, document, rubric) -> RawGrading:
        raise RuntimeError("secret internal detail")


def make_client(
    tmp_path, factory=create_backend, run_workers=True, database_url=None, rubrics_dir=None, **overrides
) -> TestClient:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data", database_url=database_url, rubrics_dir=rubrics_dir),
        api=ApiSettings(keys=[KEY]),
        jobs=JobSettings(poll_seconds=0.05),
        **overrides,
    )
    return TestClient(create_app(settings, backend_factory=factory, run_workers=run_workers))


def upload(client, data=SAMPLE, name="proposal.pdf", params="", **form):
    return client.post(f"/v1/reviews{params}", headers=AUTH, files={"file": (name, data, "application/pdf")}, data=form)


def wait_for(client, review_id, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/reviews/{review_id}", headers=AUTH).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"review {review_id} did not finish")


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path) as c:
        yield c


def test_health_needs_no_key_and_readiness_checks_store_and_backend(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"store": "ok", "backend": "ok (offline)", "workers": "ok (4 running)"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/reviews"),
        ("get", "/v1/reviews/abc"),
        ("delete", "/v1/reviews/abc"),
        ("get", "/v1/rubrics"),
        ("post", "/v1/reviews"),
        ("get", "/v1/reviews/abc/report"),
    ],
)
def test_every_route_but_health_needs_a_valid_key(client, method, path):
    missing = getattr(client, method)(path)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    wrong = getattr(client, method)(path, headers={"Authorization": "Bearer not-the-key-at-all-000"})
    assert wrong.status_code == 401


def test_x_api_key_header_is_accepted(client):
    assert client.get("/v1/rubrics", headers={"X-API-Key": KEY}).status_code == 200


def test_upload_is_accepted_then_reviewed_in_the_background(client, tmp_path):
    accepted = upload(client, vendor_name="Coral Data")
    assert accepted.status_code == 202
    job = accepted.json()
    assert job["status"] in ("queued", "running", "done")
    assert job["links"]["self"] == f"/v1/reviews/{job['id']}"
    done = wait_for(client, job["id"])
    assert done["status"] == "done"
    assert done["review"]["vendor_name"] == "Coral Data"
    assert len(done["review"]["findings"]) == 9
    assert done["rubric"] == {"name": "default", "id": "ai_vendor_checklist", "version": "1.0"}
    assert (tmp_path / "data" / "uploads" / f"{done['sha256']}.pdf").read_bytes() == SAMPLE


def test_wait_true_answers_with_the_finished_review(client):
    response = upload(client, params="?wait=true")
    assert response.status_code == 200
    assert response.json()["status"] == "done" and response.json()["review"]["offline"] is True


def test_a_waiting_upload_is_answered_when_its_job_finishes_here_not_at_the_next_store_poll(client, monkeypatch):
    monkeypatch.setattr(reviews_routes, "OTHER_PROCESS_POLL_SECONDS", 600.0)
    started = time.monotonic()
    response = upload(client, params="?wait=true&timeout=60")
    assert response.status_code == 200 and response.json()["status"] == "done"
    assert time.monotonic() - started < 30, "the waiter was not woken when its job finished"
    assert client.app.state.services.runner.finish_signals.watched == 0


def test_a_waiting_upload_sees_a_job_that_another_process_finished(tmp_path, monkeypatch):
    monkeypatch.setattr(reviews_routes, "OTHER_PROCESS_POLL_SECONDS", 0.05)
    with make_client(tmp_path, run_workers=False) as receiver, make_client(tmp_path) as worker:
        started = time.monotonic()
        response = upload(receiver, params="?wait=true&timeout=60")
        assert response.status_code == 200 and response.json()["status"] == "done"
        assert time.monotonic() - started < 30, "the waiter sat out its timeout instead of re-reading the store"
        assert worker.get(f"/v1/reviews/{response.json()['id']}", headers=AUTH).json()["status"] == "done"


def test_the_same_file_under_the_same_rubric_and_backend_is_not_reviewed_twice(client):
    first = upload(client, params="?wait=true").json()
    again = upload(client, name="renamed.pdf")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"] and again.json()["deduplicated"] is True
    forced = upload(client, params="?force=true")
    assert forced.status_code == 202 and forced.json()["id"] != first["id"]
    other_rubric = upload(client, rubric="contractnli")
    assert other_rubric.json()["id"] != first["id"]


def test_reports_render_as_markdown_and_html(client):
    job = upload(client, params="?wait=true").json()
    markdown = client.get(f"/v1/reviews/{job['id']}/report", headers=AUTH)
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith("# Proposal review")
    html = client.get(f"/v1/reviews/{job['id']}/report?format=html", headers=AUTH)
    assert html.headers["content-type"].startswith("text/html")
    assert "<h2>Summary</h2>" in html.text and "Offline grader" in html.text


def test_list_is_paginated_and_filters_by_status(client):
    ids = [
        upload(
            client,
            data=text_pdf([f"Proposal {i}: we measure accuracy on an agreed evaluation set."]),
            params="?wait=true",
        ).json()["id"]
        for i in range(3)
    ]
    page = client.get("/v1/reviews?limit=2", headers=AUTH).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["items"][0]["id"] == ids[-1]
    assert page["items"][0]["review"] is None
    rest = client.get("/v1/reviews?limit=2&offset=2", headers=AUTH).json()
    assert [i["id"] for i in rest["items"]] == [ids[0]]
    assert client.get("/v1/reviews?status=failed", headers=AUTH).json()["total"] == 0
    assert client.get("/v1/reviews?status=done", headers=AUTH).json()["total"] == 3


def test_delete_removes_the_review_and_the_stored_pdf(client, tmp_path):
    job = upload(client, params="?wait=true").json()
    assert client.delete(f"/v1/reviews/{job['id']}", headers=AUTH).status_code == 204
    assert client.get(f"/v1/reviews/{job['id']}", headers=AUTH).status_code == 404
    assert not (tmp_path / "data" / "uploads" / f"{job['sha256']}.pdf").exists()
    assert client.delete(f"/v1/reviews/{job['id']}", headers=AUTH).status_code == 404


def test_rubrics_are_listed_and_fetched_by_name_or_id(client):
    names = {r["name"] for r in client.get("/v1/rubrics", headers=AUTH).json()}
    assert {"default", "contractnli"} <= names
    assert client.get("/v1/rubrics/default", headers=AUTH).json()["id"] == "ai_vendor_checklist"
    assert client.get("/v1/rubrics/contractnli_nda", headers=AUTH).status_code == 200
    missing = client.get("/v1/rubrics/nope", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_rubric"


def error_of(response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    assert "Traceback" not in response.text
    return response.status_code, body["error"]["code"]


def test_upload_over_the_size_limit_is_413(tmp_path):
    with make_client(tmp_path, ingest=IngestSettings(max_file_bytes=1000)) as c:
        assert error_of(upload(c)) == (413, "too_large")


def test_upload_that_is_not_a_pdf_is_415(client):
    assert error_of(upload(client, data=b"PK\x03\x04 a zip file", name="proposal.pdf")) == (415, "not_pdf")


def test_empty_upload_is_422(client):
    assert error_of(upload(client, data=b"")) == (422, "empty_file")


def test_unknown_rubric_is_404(client):
    assert error_of(upload(client, rubric="no_such_rubric")) == (404, "unknown_rubric")


def test_unknown_backend_and_missing_key_are_422(client):
    assert error_of(upload(client, backend="gpt")) == (422, "unknown_backend")
    assert error_of(upload(client, backend="anthropic")) == (422, "missing_api_key")


def test_ingest_errors_are_422_when_waiting_and_a_failed_status_otherwise(tmp_path):
    with make_client(tmp_path, ingest=IngestSettings(max_pages=1)) as c:
        assert error_of(upload(c, params="?wait=true")) == (422, "too_many_pages")
        malformed = b"%PDF-1.7\n" + b"\x00 not a real pdf body\n" * 40
        assert error_of(upload(c, data=malformed, params="?wait=true")) == (422, "malformed")
        locked = encrypted(text_pdf(["A proposal page with enough text on it."]), user_password="pw")
        assert error_of(upload(c, data=locked, params="?wait=true")) == (422, "encrypted")
        queued = upload(c, data=malformed + b" ")
        assert queued.status_code == 202
        failed = wait_for(c, queued.json()["id"])
        assert failed["status"] == "failed" and failed["error"]["code"] == "malformed"


def test_unknown_review_and_bad_query_parameters(client):
    assert error_of(client.get("/v1/reviews/doesnotexist", headers=AUTH)) == (404, "not_found")
    assert error_of(client.get("/v1/reviews?limit=0", headers=AUTH)) == (422, "invalid_request")
    assert error_of(client.post("/v1/reviews", headers=AUTH)) == (422, "invalid_request")


def test_report_of_an_unfinished_review_is_409(tmp_path):
    blocking = BlockingBackend()
    with make_client(tmp_path, factory=lambda name, s: blocking, grading=GradingSettings(backend="anthropic")) as c:
        job = upload(c).json()
        assert error_of(c.get(f"/v1/reviews/{job['id']}/report", headers=AUTH)) == (409, "not_ready")
        timed_out = upload(c, data=text_pdf(["Another proposal page with text."]), params="?wait=true&timeout=0.2")
        assert timed_out.status_code == 202 and timed_out.json()["status"] in ("queued", "running")


def test_an_internal_failure_is_recorded_without_leaking_details(tmp_path):
    with make_client(
        tmp_path, factory=lambda name, s: ExplodingBackend(), grading=GradingSettings(backend="anthropic")
    ) as c:
        response = upload(c, params="?wait=true")
        assert error_of(response) == (500, "internal_error")
        assert "secret internal detail" not in response.text


def test_claude_backend_through_the_api_with_a_fake_transport(tmp_path):
    fake = FakeAnthropic()

    def factory(name, settings):
        return (
            AnthropicBackend(settings, client=fake.client()) if name == "anthropic" else create_backend(name, settings)
        )

    with make_client(tmp_path, factory=factory, anthropic=AnthropicSettings(api_key="sk-ant-test-key-123456")) as c:
        done = upload(c, backend="anthropic", params="?wait=true").json()
        assert done["status"] == "done" and done["backend"] == "anthropic" and done["model"] == "claude-sonnet-5-5"
        assert done["review"]["usage"]["calls"] == 2 and len(fake.requests) == 2
        assert upload(c, backend="anthropic").json()["deduplicated"] is True
        assert len(fake.requests) == 2


def upload_batch(client, files, params="", **form):
    return client.post(
        f"/v1/batches{params}",
        headers=AUTH,
        data=form,
        files=[("files", (name, data, "application/pdf")) for name, data in files],
    )


def wait_for_batch(client, batch_id, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/batches/{batch_id}", headers=AUTH).json()
        if body["status"] == "done":
            return body
        time.sleep(0.05)
    raise AssertionError("batch did not finish")


def test_a_batch_reviews_every_file_and_compares_them_with_downloads(client):
    files = [(name, (SAMPLES / name).read_bytes()) for name in ("coral_data.pdf", "helix_systems.pdf")]
    files.append(("notes.pdf", b"not a pdf at all"))
    accepted = upload_batch(client, files)
    assert accepted.status_code == 202
    batch = accepted.json()
    assert batch["counts"]["total"] == 3 and batch["counts"]["failed"] == 1
    assert batch["items"][2]["error"].startswith("not_pdf")
    early = client.get(f"/v1/batches/{batch['id']}/comparison.csv", headers=AUTH)
    assert early.status_code == 200 or error_of(early) == (409, "not_ready")
    done = wait_for_batch(client, batch["id"])
    rows = done["comparison"]["rows"]
    assert [r["status"] for r in rows] == ["done", "done", "failed"] and rows[0]["rank"] == 1
    csv_text = client.get(done["downloads"]["csv"], headers=AUTH)
    assert csv_text.status_code == 200 and csv_text.headers["content-type"].startswith("text/csv")
    assert len(csv_text.text.strip().splitlines()) == 4
    xlsx = client.get(done["downloads"]["xlsx"], headers=AUTH)
    assert xlsx.content[:2] == b"PK"  # a zip container, as .xlsx is
    assert "<table>" in client.get(done["downloads"]["html"], headers=AUTH).text


def test_an_anonymised_batch_names_no_vendor(client):
    files = [("helix_systems.pdf", (SAMPLES / "helix_systems.pdf").read_bytes())]
    done = wait_for_batch(client, upload_batch(client, files, anonymize="true").json()["id"])
    assert done["anonymized"] is True
    html = client.get(done["downloads"]["html"], headers=AUTH).text
    assert "Vendor A" in html and "Helix" not in html


def test_an_anonymised_batch_carries_no_file_names_and_no_review_ids(client):
    files = [(name, (SAMPLES / name).read_bytes()) for name in ("coral_data.pdf", "helix_systems.pdf")]
    files.append(("notes_from_quanta.pdf", b"not a pdf at all"))
    accepted = upload_batch(client, files, anonymize="true")
    assert accepted.status_code == 202
    done = wait_for_batch(client, accepted.json()["id"])
    review_ids = [job["id"] for job in client.get("/v1/reviews", headers=AUTH).json()["items"]]
    assert len(review_ids) == 2

    assert [item["item"] for item in done["items"]] == [1, 2, 3]
    assert [item["file_name"] for item in done["items"]] == ["Vendor A.pdf", "Vendor B.pdf", "Vendor C.pdf"]
    assert all(item["job_id"] is None for item in done["items"])
    assert [item["error"] is not None for item in done["items"]] == [False, False, True]
    assert all(row["review_id"] is None for row in done["comparison"]["rows"])
    for view in (accepted.json(), done):  # while running and once done
        text = json.dumps(view).lower()
        for leak in ("coral", "helix", "notes_from_quanta", *review_ids):
            assert leak not in text


def test_a_batch_that_is_not_anonymised_numbers_its_items_and_keeps_their_ids(client):
    files = [("coral_data.pdf", (SAMPLES / "coral_data.pdf").read_bytes())]
    done = wait_for_batch(client, upload_batch(client, files).json()["id"])
    (item,) = done["items"]
    assert item["item"] == 1 and item["file_name"] == "coral_data.pdf"
    assert item["job_id"] == done["comparison"]["rows"][0]["review_id"] is not None


def test_unknown_batch_is_404_and_the_rubric_is_checked_first(client):
    assert error_of(client.get("/v1/batches/nope", headers=AUTH)) == (404, "not_found")
    files = [("a.pdf", SAMPLE)]
    assert error_of(upload_batch(client, files, rubric="nope")) == (404, "unknown_rubric")


def test_openapi_documents_every_route_and_docs_are_served(client):
    paths = client.get("/openapi.json", headers=AUTH).json()["paths"]
    for path in (
        "/v1/reviews",
        "/v1/reviews/{review_id}",
        "/v1/reviews/{review_id}/report",
        "/v1/rubrics",
        "/v1/batches",
        "/v1/batches/{batch_id}",
        "/healthz",
        "/readyz",
    ):
        assert path in paths
    assert client.get("/docs", headers=AUTH).status_code == 200


def test_the_api_runs_on_postgres_too(tmp_path):
    import os

    url = os.environ.get("REVIEWER_TEST_DATABASE_URL")
    if not url:
        pytest.skip("no REVIEWER_TEST_DATABASE_URL: Postgres not available here")
    from reviewer.store import make_engine, metadata

    engine = make_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
    with make_client(tmp_path, database_url=url) as c:
        done = upload(c, params="?wait=true").json()
        assert done["status"] == "done" and len(done["review"]["findings"]) == 9
        assert upload(c).json()["deduplicated"] is True
        assert c.get("/readyz").json()["checks"]["store"] == "ok"


def test_a_rubric_edited_while_a_job_waits_is_recorded_as_the_version_that_graded_it(tmp_path):
    rubrics = tmp_path / "rubrics"
    rubrics.mkdir()
    default = (Path(__file__).resolve().parent.parent / "reviewer/rubrics/default.yaml").read_text()
    ours = default.replace("id: ai_vendor_checklist", "id: our_checklist", 1)
    (rubrics / "ours.yaml").write_text(ours)
    with make_client(tmp_path, rubrics_dir=rubrics, run_workers=False) as c:
        queued = upload(c, rubric="ours").json()
        assert queued["status"] == "queued" and queued["rubric"]["version"] == "1.0"
    (rubrics / "ours.yaml").write_text(ours.replace('version: "1.0"', 'version: "1.1"', 1))
    with make_client(tmp_path, rubrics_dir=rubrics) as c:
        done = wait_for(c, queued["id"])
        assert done["status"] == "done"
        assert done["rubric"]["version"] == "1.1" and done["review"]["rubric"]["version"] == "1.1"
        again = upload(c, rubric="ours")
        assert again.status_code == 200 and again.json()["id"] == queued["id"]


def test_readiness_says_not_ready_when_a_review_worker_has_stopped(client):
    runner = client.app.state.services.runner
    client.portal.call(lambda: runner._tasks[0].cancel())
    deadline = time.monotonic() + 5
    while not runner._tasks[0].done() and time.monotonic() < deadline:
        time.sleep(0.01)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not_ready"
    assert ready.json()["checks"]["workers"] == "1 of 4 review workers stopped"
