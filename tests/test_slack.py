import asyncio
import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from reviewer.config import ApiSettings, JobSettings, Settings, SlackSettings, StorageSettings
from reviewer.grading.base import create_backend
from reviewer.queue.services import Services
from reviewer.server import create_server as create_app
from reviewer.slack.bot import SlackBot
from tests.fake_slack import FakeSlack
from tests.test_api import ExplodingBackend

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TOKEN, SECRET = "xoxb-test-token", "slack-signing-secret"


def signed(body: bytes, secret: str = SECRET, at: float | None = None) -> dict:
    ts = str(int(at if at is not None else time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def event_body(file_ids: list[str], ts: str = "1700000000.000100") -> bytes:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{ts}",
            "event_time": 1700000000,
            "event": {
                "type": "message",
                "subtype": "file_share",
                "channel": "C1",
                "user": "U1",
                "ts": ts,
                "text": "",
                "files": [{"id": f} for f in file_ids],
            },
        }
    ).encode()


def post_event(client, body: bytes):
    return client.post("/slack/events", content=body, headers={**signed(body), "Content-Type": "application/json"})


def command(client, text: str):
    body = urlencode(
        {
            "command": "/review",
            "text": text,
            "user_id": "U1",
            "channel_id": "C1",
            "team_id": "T1",
            "response_url": "https://hooks.invalid/x",
            "trigger_id": "t1",
        }
    ).encode()
    return client.post(
        "/slack/events", content=body, headers={**signed(body), "Content-Type": "application/x-www-form-urlencoded"}
    )


def wait_for_posts(slack: FakeSlack, count: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(slack.posted) >= count:
            return slack.posted
        time.sleep(0.05)
    raise AssertionError(f"expected {count} messages, got {slack.posted}")


@pytest.fixture
def slack():
    with FakeSlack(TOKEN) as fake:
        yield fake


def app_client(tmp_path, slack, factory=create_backend, run_workers=True, **overrides) -> TestClient:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        api=ApiSettings(keys=["api-key-0123456789abcdef"], public_base_url="https://reviewer.example.com"),
        jobs=JobSettings(poll_seconds=0.05),
        slack=SlackSettings(bot_token=TOKEN, signing_secret=SECRET, api_base_url=f"{slack.url}/api/"),
        **overrides,
    )
    return TestClient(create_app(settings, backend_factory=factory, run_workers=run_workers))


def test_forged_or_stale_requests_are_refused(tmp_path, slack):
    with app_client(tmp_path, slack) as client:
        body = event_body(["F1"])
        forged = client.post(
            "/slack/events", content=body, headers={**signed(body, secret="wrong"), "Content-Type": "application/json"}
        )
        stale = client.post(
            "/slack/events",
            content=body,
            headers={**signed(body, at=time.time() - 600), "Content-Type": "application/json"},
        )
        assert forged.status_code == 401 and stale.status_code == 401
        time.sleep(0.2)
        assert slack.posted == [] and slack.downloads == []


def test_a_shared_pdf_is_acknowledged_then_summarised_in_its_thread(tmp_path, slack):
    slack.add_file("F1", "helix_systems.pdf", (SAMPLES / "helix_systems.pdf").read_bytes())
    with app_client(tmp_path, slack) as client:
        started = time.monotonic()
        response = post_event(client, event_body(["F1"]))
        assert response.status_code == 200 and time.monotonic() - started < 3
        acknowledgement, summary = wait_for_posts(slack, 2)
    assert acknowledgement["thread_ts"] == summary["thread_ts"] == "1700000000.000100"
    assert acknowledgement["channel"] == "C1" and "Reviewing *helix_systems.pdf*" in acknowledgement["text"]
    blocks = summary["blocks"]
    assert blocks[0]["type"] == "header" and "helix_systems.pdf" in blocks[0]["text"]["text"]
    text = json.dumps(blocks)
    assert "Score" in text and "offline grader" in text
    assert "https://reviewer.example.com/v1/reviews/" in text and "format=html" in text
    assert slack.downloads == ["F1"]


def test_a_file_that_is_not_a_pdf_gets_a_polite_reply_and_no_download(tmp_path, slack):
    slack.add_file("F2", "notes.txt", b"just some notes", filetype="text")
    slack.add_file("F3", "huge.pdf", b"%PDF-1.7", size=500 * 1024 * 1024)
    slack.add_file("F4", "fake.pdf", b"PK\x03\x04 actually a zip")
    with app_client(tmp_path, slack) as client:
        post_event(client, event_body(["F2", "F3", "F4"]))
        posts = wait_for_posts(slack, 3)
    texts = sorted(p["text"] for p in posts)
    assert any("not a PDF" in t and "notes.txt" in t for t in texts)
    assert any("huge.pdf" in t and "MB" in t for t in texts)
    assert any("fake.pdf" in t and "does not look like a PDF" in t for t in texts)
    assert slack.downloads == ["F4"]
    assert all(p["thread_ts"] == "1700000000.000100" for p in posts)


def test_a_failed_review_is_reported_in_the_thread_never_silence(tmp_path, slack):
    slack.add_file("F5", "coral.pdf", (SAMPLES / "coral_data.pdf").read_bytes())
    with app_client(tmp_path, slack, factory=lambda name, s: ExplodingBackend()) as client:
        post_event(client, event_body(["F5"]))
        posts = wait_for_posts(slack, 2)
    assert "failed" in posts[-1]["text"] and "coral.pdf" in posts[-1]["text"]


def test_slash_commands_help_list_show_and_compare(tmp_path, slack):
    with app_client(tmp_path, slack) as client:
        headers = {"Authorization": "Bearer api-key-0123456789abcdef"}
        ids = []
        for name in ("coral_data.pdf", "quanta_labs.pdf"):
            done = client.post(
                "/v1/reviews?wait=true",
                headers=headers,
                files={"file": (name, (SAMPLES / name).read_bytes(), "application/pdf")},
            ).json()
            ids.append(done["id"])
        assert "/review list" in json.dumps(command(client, "help").json())
        listing = json.dumps(command(client, "list").json())
        assert ids[0][:8] in listing and "quanta_labs.pdf" in listing
        shown = command(client, ids[0][:8]).json()
        assert shown["blocks"][0]["type"] == "header" and "coral_data.pdf" in shown["blocks"][0]["text"]["text"]
        compared = json.dumps(command(client, f"compare {ids[0][:8]} {ids[1][:8]}").json())
        assert "Vendor comparison" in compared and "Coral Data" in compared and "Quanta Labs" in compared
        assert "No review" in command(client, "abcdef12").text  # a text-only answer comes back as plain text
        assert "too short" in command(client, "abc").text
        assert "at least two" in command(client, f"compare {ids[0][:8]}").text


def test_the_summary_still_reaches_the_thread_when_the_review_finishes_after_a_restart(tmp_path, slack):
    slack.add_file("F6", "quanta.pdf", (SAMPLES / "quanta_labs.pdf").read_bytes())
    with app_client(tmp_path, slack, run_workers=False) as client:
        post_event(client, event_body(["F6"], ts="1700000000.000600"))
        [acknowledgement] = wait_for_posts(slack, 1)  # queued; this process stops before reviewing it
        time.sleep(0.3)
    assert "Reviewing" in acknowledgement["text"] and len(slack.posted) == 1
    with app_client(tmp_path, slack):
        posts = wait_for_posts(slack, 2)
    assert posts[1]["thread_ts"] == "1700000000.000600" and posts[1]["blocks"][0]["type"] == "header"
    time.sleep(0.2)
    assert len(slack.posted) == 2  # posted once, not again by the next poll


def test_the_bot_token_is_never_sent_to_a_host_other_than_slacks(tmp_path, slack):
    slack.add_file("F7", "evil.pdf", b"%PDF-1.7 whatever")
    slack.files["F7"]["url_private_download"] = "https://attacker.example.com/steal.pdf"
    with app_client(tmp_path, slack) as client:
        post_event(client, event_body(["F7"]))
        [reply] = wait_for_posts(slack, 1)
    assert "couldn't download *evil.pdf*" in reply["text"] and slack.downloads == []


def test_the_summary_notifier_stops_even_when_woken_at_that_moment(tmp_path, slack):
    # as for the review workers (tests/test_jobs.py): a wake-up in the instant of stopping must not
    # swallow the stop
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path),
        jobs=JobSettings(poll_seconds=60),
        slack=SlackSettings(bot_token=TOKEN, signing_secret=SECRET, api_base_url=f"{slack.url}/api/"),
    )
    services = Services.open(settings)

    async def scenario() -> None:
        bot = SlackBot(services)
        bot.start()
        await asyncio.sleep(0.5)  # the notifier found nothing to post and waits to be woken
        bot.wake.set()
        async with asyncio.timeout(20):
            await bot.stop()

    asyncio.run(scenario())


def interaction(client, payload: dict):
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {**signed(body), "Content-Type": "application/x-www-form-urlencoded"}
    return client.post("/slack/events", content=body, headers=headers)


def test_an_evaluator_confirms_or_changes_a_grade_from_the_summary(tmp_path, slack):
    slack.add_file("F1", "helix_systems.pdf", (SAMPLES / "helix_systems.pdf").read_bytes())
    with app_client(tmp_path, slack) as client:
        post_event(client, event_body(["F1"]))
        _, summary = wait_for_posts(slack, 2)
        [menu] = [b for b in summary["blocks"] if b.get("block_id") == "assess"]
        option = menu["elements"][0]["options"][0]
        review_id, criterion_id = option["value"].split(":")
        user = {"id": "U7", "username": "ana", "team_id": "T1"}
        picked = interaction(
            client,
            {
                "type": "block_actions",
                "team": {"id": "T1"},
                "user": user,
                "api_app_id": "A1",
                "trigger_id": "trigger-1",
                "channel": {"id": "C1"},
                "message": {
                    "ts": "1700000001.000002",
                    "thread_ts": "1700000000.000100",
                },
                "actions": [
                    {
                        "type": "static_select",
                        "action_id": "assess_criterion",
                        "block_id": "assess",
                        "selected_option": option,
                    }
                ],
            },
        )
        assert picked.status_code == 200
        deadline = time.monotonic() + 10
        while not slack.views and time.monotonic() < deadline:
            time.sleep(0.05)
        view = slack.views[0]["view"]
        assert slack.views[0]["trigger_id"] == "trigger-1" and view["callback_id"] == "assess_submit"
        ai = view["blocks"][1]["element"]["initial_option"]["value"]
        other = "missing" if ai != "missing" else "met"

        def submit(grade: str, reason: str | None):
            state = {
                "grade": {"grade": {"type": "static_select", "selected_option": {"value": grade}}},
                "reason": {"reason": {"type": "plain_text_input", "value": reason}},
            }
            return interaction(
                client,
                {
                    "type": "view_submission",
                    "team": {"id": "T1"},
                    "user": user,
                    "api_app_id": "A1",
                    "view": {**view, "id": "V1", "state": {"values": state}},
                },
            )

        refused = submit(other, None)
        assert refused.status_code == 200 and refused.json()["response_action"] == "errors"
        assert "reason" in refused.json()["errors"]
        saved = submit(other, "page 3 says <!here> otherwise")
        assert saved.status_code == 200
        line = wait_for_posts(slack, 3)[2]
        body = client.get(
            f"/v1/reviews/{review_id}", headers={"Authorization": "Bearer api-key-0123456789abcdef"}
        ).json()
    assert line["thread_ts"] == "1700000000.000100" and "slack:ana graded" in line["text"]
    assert "<!here>" not in line["text"] and "&lt;!here&gt;" in line["text"]
    finding = next(f for f in body["review"]["findings"] if f["criterion_id"] == criterion_id)
    assert (finding["final_grade"], finding["final_source"]) == (other, "evaluator")
    assert finding["assessments"][0]["evaluator"] == "slack:ana"
