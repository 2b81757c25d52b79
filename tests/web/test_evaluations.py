"""The Evaluations home and New evaluation pages through the TestClient: upload -> estimate -> start through
the core's batch intake, bad input shown on the form with nothing lost and nothing queued, rubric files
checked with the CLI's errors, the home page's filters and its live progress endpoint."""

import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reviewer.config import AnthropicSettings, ApiSettings, IngestSettings, JobSettings, Settings, StorageSettings
from reviewer.errors import RubricError
from reviewer.rubric import BUNDLED_RUBRICS_DIR, load_rubric_file
from reviewer.server import create_server
from tests.web.test_routes import KEYS, csrf_of, sign_in

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CORAL = (SAMPLES / "coral_data.pdf").read_bytes()
HELIX = (SAMPLES / "helix_systems.pdf").read_bytes()
DEFAULT_RUBRIC = (BUNDLED_RUBRICS_DIR / "default.yaml").read_text()


def settings_for(tmp_path, **groups) -> Settings:
    return Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        api=ApiSettings(keys=[f"{n}:{k}" for n, k in KEYS.items()], lead_evaluators=["lead"]),
        jobs=JobSettings(poll_seconds=0.05),
        **groups,
    )


@pytest.fixture
def client(tmp_path):
    with TestClient(create_server(settings_for(tmp_path))) as c:
        sign_in(c)
        yield c


def upload(client, files, *, draft=None, keep=(), rubric="default", backend="offline", rubric_file=None, blind=False):
    form = client.get("/web/evaluations/new" + (f"?draft={draft}" if draft else ""))
    data = {"csrf": csrf_of(form.text), "rubric": rubric, "backend": backend, "keep": list(keep)}
    if draft:
        data["draft"] = draft
    if blind:
        data["blind"] = "on"
    parts = [("files", (name, content, "application/pdf")) for name, content in files] or [
        ("files", ("", b"", "application/octet-stream"))  # what a browser sends when no file was chosen
    ]
    if rubric_file:
        parts.append(("rubric_file", (rubric_file[0], rubric_file[1], "application/x-yaml")))
    return client.post("/web/evaluations/new", data=data, files=parts, follow_redirects=False)


def start(client, draft_page: str, vendors: dict[str, str] | None = None):
    page = client.get(draft_page)
    assert page.status_code == 200, page.text
    data = {"csrf": csrf_of(page.text)}
    for key, name in re.findall(r'<label for="vendor-([0-9a-f]+)">Vendor of ([^<]+)</label>', page.text):
        if vendors and name in vendors:
            data[f"vendor-{key}"] = vendors[name]
    return client.post(draft_page, data=data, follow_redirects=False)


def wait_done(client, batch_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.get(f"/web/evaluations/progress.json?batch={batch_id}").json()
        if found[batch_id]["status"] != "running":
            return found[batch_id]
        time.sleep(0.1)
    raise AssertionError("the evaluation did not finish")


def kept_keys(html: str) -> list[str]:
    return re.findall(r'name="keep" value="([0-9a-f]+)"', html)


def test_a_new_evaluation_is_uploaded_estimated_named_started_and_compared(client):
    form = client.get("/web/evaluations/new")
    assert form.status_code == 200
    for control in ("files", "rubric", "rubric_file", "backend", "blind"):
        assert f'for="{control}"' in form.text and f'id="{control}"' in form.text  # every control labelled
    assert 'type="file" multiple' in form.text and 'enctype="multipart/form-data"' in form.text

    uploaded = upload(client, [("coral_data.pdf", CORAL), ("helix_systems.pdf", HELIX)])
    assert uploaded.status_code == 303 and uploaded.headers["location"].startswith("/web/evaluations/drafts/")
    estimate = client.get(uploaded.headers["location"])
    assert "Free, offline" in estimate.text and "coral_data.pdf" in estimate.text
    assert client.app.state.services.store.list_jobs(None, 10, 0)[1] == 0  # nothing queued before the start

    started = start(client, uploaded.headers["location"], vendors={"coral_data.pdf": "Coral <Data> Inc"})
    assert started.status_code == 303 and started.headers["location"].startswith("/web/batches/")
    batch_id = started.headers["location"].rsplit("/", 1)[1]
    assert wait_done(client, batch_id)["counts"] == {"total": 2, "queued": 0, "running": 0, "done": 2, "failed": 0}
    api = client.get(f"/v1/batches/{batch_id}", headers={"Authorization": f"Bearer {KEYS['ana']}"}).json()
    assert api["status"] == "done" and api["rubric"] == "default" and len(api["comparison"]["rows"]) == 2
    assert {row["vendor"] for row in api["comparison"]["rows"]} == {"Coral <Data> Inc", "Helix Systems"}
    page = client.get(started.headers["location"])
    assert "Coral &lt;Data&gt; Inc" in page.text and "comparison.csv" in page.text
    assert client.get(uploaded.headers["location"]).status_code == 404  # the draft is gone once started


def test_bad_files_are_named_on_the_form_the_good_ones_kept_and_nothing_queued(tmp_path):
    settings = settings_for(tmp_path, ingest=IngestSettings(max_file_bytes=len(CORAL) + 10))
    with TestClient(create_server(settings)) as client:
        sign_in(client)
        none = upload(client, [])
        assert none.status_code == 422 and "Choose at least one proposal" in none.text
        bad = upload(
            client,
            [("coral_data.pdf", CORAL), ("notes.pdf", b"not a pdf at all"), ("big.pdf", b"%PDF-1.4" + b"x" * 9000)],
            backend="offline",
        )
        assert bad.status_code == 422 and "Traceback" not in bad.text and 'role="alert"' in bad.text
        assert "notes.pdf: the file is not a PDF" in bad.text
        assert "big.pdf: the file is 0.0 MB; the limit is" in bad.text
        keys = kept_keys(bad.text)
        assert len(keys) == 1 and "coral_data.pdf" in bad.text  # the good file is kept, checked
        assert 'value="offline" selected' in bad.text
        draft = re.search(r'name="draft" value="([^"]+)"', bad.text).group(1)
        again = upload(client, [("helix_systems.pdf", HELIX)], draft=draft, keep=keys)
        assert again.status_code == 303
        estimate = client.get(again.headers["location"]).text
        assert "coral_data.pdf" in estimate and "helix_systems.pdf" in estimate and "notes.pdf" not in estimate
        assert client.app.state.services.store.list_jobs(None, 10, 0)[1] == 0


def test_an_invalid_rubric_file_gets_the_cli_error_and_a_valid_one_is_used_under_its_own_name(client, tmp_path):
    broken = "id: ours\nversion: '1'\ntitle: [unclosed\n"
    (tmp_path / "ours.yaml").write_text(broken)
    with pytest.raises(RubricError) as cli:
        load_rubric_file(tmp_path / "ours.yaml")
    refused = upload(client, [("coral_data.pdf", CORAL)], rubric_file=("ours.yaml", broken.encode()))
    assert refused.status_code == 422
    expected = cli.value.message.replace(str(tmp_path / "ours.yaml"), "ours.yaml")
    assert expected.startswith("ours.yaml:4:1: not valid YAML") and expected.replace("'", "&#39;") in refused.text
    assert str(tmp_path) not in refused.text and len(kept_keys(refused.text)) == 1

    edited = DEFAULT_RUBRIC.replace("title: Buyer's checklist", "title: Supplier checklist", 1)  # same id
    accepted = upload(client, [("coral_data.pdf", CORAL)], rubric_file=("edited.yaml", edited.encode()))
    assert accepted.status_code == 303
    assert "Supplier checklist" in client.get(accepted.headers["location"]).text
    started = start(client, accepted.headers["location"])
    batch_id = started.headers["location"].rsplit("/", 1)[1]
    record = client.app.state.services.store.get_batch(batch_id)
    assert record.rubric_name.startswith("uploaded-ai_vendor_checklist-")  # not "default": the upload's own file
    assert client.get("/web/evaluations/new").text.count(record.rubric_name) >= 1  # listed under Uploaded
    bad_suffix = upload(client, [("coral_data.pdf", CORAL)], rubric_file=("ours.txt", b"id: x"))
    assert bad_suffix.status_code == 422 and "ours.txt: a rubric file ends in .yaml, .yml, .toml" in bad_suffix.text


def test_an_unconfigured_backend_is_refused_on_the_form(client):
    refused = upload(client, [("coral_data.pdf", CORAL)], backend="anthropic")  # no API key configured
    assert refused.status_code == 422 and "Traceback" not in refused.text and len(kept_keys(refused.text)) == 1


def test_the_claude_estimate_shows_tokens_and_dollars_and_sends_nothing(tmp_path):
    settings = settings_for(tmp_path, anthropic=AnthropicSettings(api_key="sk-ant-test-0123456789abcdef"))
    with TestClient(create_server(settings, run_workers=False)) as client:
        sign_in(client)
        uploaded = upload(client, [("coral_data.pdf", CORAL), ("helix_systems.pdf", HELIX)], backend="anthropic")
        assert uploaded.status_code == 303, uploaded.text
        estimate = client.get(uploaded.headers["location"]).text
        assert re.search(r"estimate for 2 documents with [^:]+: \d+ calls, ~[\d,]+ input tokens", estimate)
        assert "~$" in estimate and "Nothing was sent" in estimate


def test_the_forms_refuse_posts_without_a_session_or_the_csrf_token(tmp_path, client):
    uploaded = upload(client, [("coral_data.pdf", CORAL)])
    draft_page = uploaded.headers["location"]
    assert client.post("/web/evaluations/new", files=[("files", ("a.pdf", CORAL))]).status_code == 403
    assert client.post(draft_page, data={"csrf": "guess"}).status_code == 403
    with TestClient(create_server(settings_for(tmp_path / "other"))) as stranger:
        assert stranger.get("/web/evaluations/new").status_code == 401
        assert stranger.get("/web/evaluations/progress.json").status_code == 401
    form = client.get("/web/login")  # the same server, another evaluator: someone else's draft is not found
    client.cookies.clear()
    other = client.post(
        "/web/login", data={"key": KEYS["lead"], "csrf": csrf_of(client.get("/web/login").text), "next": "/web/"}
    )
    assert form.status_code in (200, 303) and other.status_code in (200, 303)
    assert client.get(draft_page).status_code == 404
    assert client.app.state.services.store.list_jobs(None, 10, 0)[1] == 0


def test_the_upload_form_takes_more_than_one_file_limit_in_one_request(tmp_path):
    padded = CORAL + b"\n%" + b"0" * 60_000
    settings = settings_for(tmp_path, ingest=IngestSettings(max_file_bytes=len(padded) + 100))
    with TestClient(create_server(settings, run_workers=False)) as client:
        sign_in(client)
        files = [(f"p{i}.pdf", padded) for i in range(3)]  # ~190 KB: over one file's limit plus overhead
        assert upload(client, files).status_code == 303


def test_home_lists_filters_and_reports_progress(client):
    first = start(client, upload(client, [("coral_data.pdf", CORAL), ("helix_systems.pdf", HELIX)]).headers["location"])
    batch_id = first.headers["location"].rsplit("/", 1)[1]
    wait_done(client, batch_id)
    loose = client.post(
        "/v1/reviews?wait=true",
        headers={"Authorization": f"Bearer {KEYS['ana']}"},
        files={"file": ("northwind.pdf", (SAMPLES / "northwind_analytics.pdf").read_bytes(), "application/pdf")},
        data={"backend": "offline"},
    ).json()
    home = client.get("/web/").text
    assert home.index(f'data-review="{loose["id"]}"') < home.index(f'data-batch="{batch_id}"')  # newest first
    assert "Coral Data, Helix Systems" in home and "/web/static/live.js" in home
    for label in ("f-status", "f-rubric", "f-vendor", "f-since", "f-until"):
        assert f'for="{label}"' in home

    def shown(query: str) -> set[str]:
        html = client.get(f"/web/?{query}").text
        return set(re.findall(r'data-(?:batch|review)="([^"]+)"', html))

    assert shown("vendor=helix") == {batch_id}
    assert shown("vendor=NORTHWIND") == {loose["id"]}
    assert shown("status=done") == {batch_id, loose["id"]} and shown("status=running") == set()
    assert shown("rubric=default") == {batch_id, loose["id"]} and shown("rubric=other") == set()
    assert shown("until=2000-01-01") == set() and shown("since=2000-01-01") == {batch_id, loose["id"]}
    assert shown("since=not-a-date&status=bogus") == {batch_id, loose["id"]}  # ignored, never an error
    assert "No evaluation matches" in client.get("/web/?vendor=nobody").text

    progress = client.get(f"/web/evaluations/progress.json?batch={batch_id}&review={loose['id']}&batch=nope").json()
    assert set(progress) == {batch_id, loose["id"]}
    assert progress[loose["id"]] == {
        "status": "done",
        "counts": {"total": 1, "queued": 0, "running": 0, "done": 1, "failed": 0},
    }


def test_a_blind_panel_names_no_vendor_to_an_evaluator_on_the_home_page(client):
    uploaded = upload(client, [("coral_data.pdf", CORAL), ("helix_systems.pdf", HELIX)], blind=True)
    batch_id = start(client, uploaded.headers["location"]).headers["location"].rsplit("/", 1)[1]
    assert client.app.state.services.store.get_batch(batch_id).blind
    wait_done(client, batch_id)
    home = client.get("/web/").text
    assert "(blind panel)" in home and "Coral" not in home and "Helix" not in home
    assert client.get("/web/?vendor=coral").text.count("data-batch=") == 0
    comparison = client.get(f"/web/batches/{batch_id}").text
    assert "Vendor A" in comparison and "/web/reviews/" not in comparison and "Coral" not in comparison
    client.cookies.clear()
    sign_in(client, "lead")  # the lead hands the reviews out: the same labels, with links to each review
    led = client.get(f"/web/batches/{batch_id}").text
    assert "Vendor A" in led and led.count('href="/web/reviews/') >= 2 and "Coral" not in led


def test_the_root_opens_the_web_home(client):
    assert client.get("/", follow_redirects=False).headers["location"] == "/web/"
    assert "<h1>Evaluations</h1>" in client.get("/").text
