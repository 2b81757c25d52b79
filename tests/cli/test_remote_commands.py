"""`--api URL`: assess, consensus, audit, round and questions against the real API served by uvicorn on
127.0.0.1 in a thread; the key comes from REVIEWER_API_KEY and is never printed; server errors are one line."""

import socket
import threading
import time
import uuid

import docx
import httpx2
import pytest
import uvicorn
from pypdf import PdfReader

from reviewer.api.app import create_app
from reviewer.cli import main
from reviewer.config import ApiSettings, JobSettings, Settings, StorageSettings
from reviewer.store import JobStore, make_engine
from tests.store.support import new_job
from tests.test_rounds import ANSWER, KEYS, PROPOSAL, AnswerAwareBackend


@pytest.fixture
def server(tmp_path):
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "server"),
        api=ApiSettings(keys=[f"{n}:{k}" for n, k in KEYS.items()], lead_evaluators=["lead"]),
        jobs=JobSettings(poll_seconds=0.05),
    )
    app = create_app(settings, backend_factory=lambda name, s: AnswerAwareBackend())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="error", lifespan="on")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    running.should_exit = True
    thread.join(timeout=30)
    sock.close()


@pytest.fixture
def review(server, monkeypatch, tmp_path) -> tuple[str, list[dict]]:
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "local"))  # the local store stays empty
    response = httpx2.post(
        f"{server}/v1/reviews?wait=true",
        headers={"Authorization": f"Bearer {KEYS['ana']}"},
        files={"file": ("proposal.pdf", PROPOSAL, "application/pdf")},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()["id"], response.json()["review"]["findings"]


def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("reviewer: error: "), captured.err
    assert all(key not in captured.out + captured.err for key in KEYS.values())
    return captured.err


def test_the_panel_commands_work_against_a_running_server(server, review, monkeypatch, tmp_path, capsys):
    review_id, findings = review
    first, second = findings[0]["criterion_id"], findings[1]["criterion_id"]  # round 1: partial, met
    monkeypatch.setenv("REVIEWER_API_KEY", KEYS["ana"])

    assert main(["assess", review_id, second, "missing", "--api", server]) == 2
    assert "a reason is required" in _one_line_error(capsys)
    assert main(["assess", review_id, second, "missing", "--reason", "vague", "--api", server]) == 0
    assert capsys.readouterr().out.strip() == f"ana assessed {second} as missing on {review_id}"

    assert main(["consensus", review_id, second, "missing", "--reason", "agreed", "--api", server]) == 2
    refused = _one_line_error(capsys)
    assert "only an evaluation lead" in refused and "HTTP 403 forbidden" in refused
    monkeypatch.setenv("REVIEWER_API_KEY", KEYS["lead"])
    assert main(["consensus", review_id, second, "missing", "--reason", "agreed", "--api", server]) == 0
    assert capsys.readouterr().out.strip() == f"consensus on {second}: missing (set by lead)"

    (tmp_path / "answer.pdf").write_bytes(ANSWER)
    assert main(["round", review_id, str(tmp_path / "answer.pdf"), "--api", server]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("round 2 (answer.pdf): score ") and "since round 1" in lines[0]
    assert f" * {first}: partial -> met (+0.5)" in lines
    assert any(line.startswith("     closed by answer.pdf p.2:") for line in lines)

    assert main(["assess", review_id, first, "met", "--api", server]) == 0  # the latest round: met is its grade
    assert capsys.readouterr().out.strip() == f"lead assessed {first} as met on {review_id}, round 2"
    assert main(["assess", review_id, first, "met", "--round", "7", "--api", server]) == 2
    assert "no round 7" in _one_line_error(capsys)

    assert main(["audit", review_id, "--api", server]) == 0
    trail = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[2].split(" ")[0] for line in trail[-3:]] == ["round", "round", "assessed"]
    assert "ana  assessed" in "\n".join(trail) and "lead  consensus set" in "\n".join(trail)

    assert main(["questions", review_id, "--api", server]) == 0
    text = capsys.readouterr().out
    assert "Round 2" in text and "Clarification questions" in text


def test_errors_from_the_server_or_the_connection_are_one_line_and_never_show_the_key(
    server, review, monkeypatch, capsys
):
    review_id, findings = review
    criterion = findings[0]["criterion_id"]
    monkeypatch.delenv("REVIEWER_API_KEY", raising=False)
    assert main(["audit", review_id, "--api", server]) == 2
    assert "REVIEWER_API_KEY" in _one_line_error(capsys)

    monkeypatch.setenv("REVIEWER_API_KEY", "wrong-key-0123456789abcdef")
    assert main(["audit", review_id, "--api", server]) == 2
    err = _one_line_error(capsys)
    assert "refused the key in REVIEWER_API_KEY" in err and "401" in err and "wrong-key" not in err

    monkeypatch.setenv("REVIEWER_API_KEY", KEYS["ana"])
    assert main(["assess", "0123abcd", criterion, "met", "--api", server]) == 2
    assert "no review with id '0123abcd'" in _one_line_error(capsys)
    assert main(["assess", review_id, criterion, "met", "--as", "ben", "--api", server]) == 2
    assert "--as does not apply with --api" in _one_line_error(capsys)
    assert main(["audit", review_id, "--api", "ftp://example"]) == 2
    assert "http(s) URL" in _one_line_error(capsys)

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    assert main(["audit", review_id, "--api", f"http://127.0.0.1:{port}"]) == 1
    assert f"cannot reach the server at http://127.0.0.1:{port}" in _one_line_error(capsys)


def _server_events(server: str, review_id: str) -> list[dict]:
    response = httpx2.get(f"{server}/v1/reviews/{review_id}/audit", headers={"Authorization": f"Bearer {KEYS['lead']}"})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_questions_over_the_api_are_the_servers_export_and_in_its_audit_trail(server, review, monkeypatch, tmp_path):
    review_id, findings = review
    monkeypatch.setenv("REVIEWER_API_KEY", KEYS["ana"])
    assert main(["questions", review_id[:8], "--format", "docx", "-o", str(tmp_path / "q.docx"), "--api", server]) == 0
    paragraphs = [p.text for p in docx.Document(str(tmp_path / "q.docx")).paragraphs]
    assert paragraphs[0] == "Clarification questions: Proposal" and paragraphs[3].startswith(
        f"1. {findings[0]['title']}"
    )
    assert main(["questions", review_id, "--format", "pdf", "-o", str(tmp_path / "q.pdf"), "--api", server]) == 0
    assert "Please answer each question" in PdfReader(str(tmp_path / "q.pdf")).pages[0].extract_text()
    exported = [e for e in _server_events(server, review_id) if e["action"] == "questions_exported"]
    assert [(e["actor"], e["after"]["format"]) for e in exported] == [("ana", "docx"), ("ana", "pdf")]


def test_the_api_path_takes_a_unique_prefix_and_says_which_ids_an_ambiguous_one_starts(
    server, review, monkeypatch, tmp_path, capsys
):
    review_id, findings = review
    monkeypatch.setenv("REVIEWER_API_KEY", KEYS["ana"])
    criterion = findings[1]["criterion_id"]
    assert main(["assess", review_id[:6], criterion, "met", "--api", server]) == 0
    assert capsys.readouterr().out.strip() == f"ana assessed {criterion} as met on {review_id}"
    assert main(["audit", review_id[:6], "--api", server]) == 0
    assert "ana  assessed" in capsys.readouterr().out

    real = uuid.uuid4
    monkeypatch.setattr("reviewer.store.jobs.uuid.uuid4", lambda: uuid.UUID("abcd" + real().hex[4:]))
    store = JobStore(make_engine(f"sqlite:///{tmp_path / 'server' / 'reviewer.db'}"))
    ids = [store.create_or_get(new_job(n))[0].id for n in (1, 2)]
    store.engine.dispose()
    assert main(["questions", "abcd", "--api", server]) == 2
    err = _one_line_error(capsys)
    assert "review id 'abcd' is ambiguous" in err and "(HTTP 409 ambiguous_id)" in err
    assert all(i in err for i in ids)
    unmatched = "abcd" + next(c for c in "0123456789abcdef" if all(i[4] != c for i in ids))  # ids are random past abcd
    assert main(["assess", unmatched, criterion, "met", "--api", server]) == 2
    assert f"no review with id '{unmatched}' (HTTP 404 not_found)" in _one_line_error(capsys)
