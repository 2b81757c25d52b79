"""Upload details: an encrypted PDF's password (used, never kept), and a re-upload's vendor name."""

import time

import pytest
from fastapi.testclient import TestClient

from reviewer.api.app import create_app
from reviewer.config import ApiSettings, JobSettings, Settings, StorageSettings
from tests.pdfs import encrypted, text_pdf

KEY = "upload-test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
PASSWORD = "Tr1cky-Proposal-Passw0rd"
PAGE = "Security: all client data is encrypted at rest with AES-256 and in transit with TLS 1.3."


def make_client(tmp_path) -> TestClient:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        api=ApiSettings(keys=[KEY]),
        jobs=JobSettings(poll_seconds=0.05),
    )
    return TestClient(create_app(settings))


def upload(client, data, params="?wait=true", **form):
    files = {"file": ("locked.pdf", data, "application/pdf")}
    return client.post(f"/v1/reviews{params}", headers=AUTH, files=files, data={"backend": "offline", **form})


def wait_for(client, review_id, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/reviews/{review_id}", headers=AUTH).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"review {review_id} did not finish")


@pytest.fixture
def locked() -> bytes:
    return encrypted(text_pdf([PAGE, PAGE]), user_password=PASSWORD)


def test_an_encrypted_pdf_is_reviewed_with_the_password_field_which_is_never_kept(tmp_path, capsys, locked):
    with make_client(tmp_path) as client:
        answer = upload(client, locked, password=PASSWORD)
        assert answer.status_code == 200, answer.text
        job = answer.json()
        assert job["status"] == "done" and job["review"] is not None
        assert PASSWORD not in answer.text
        listed = client.get("/v1/reviews", headers=AUTH).text
        assert PASSWORD not in listed
        assert client.app.state.services.runner.passwords.get(job["sha256"]) is None  # not kept after reading
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert PASSWORD.encode() not in stored  # not in the job record, the database or its journal
    assert PASSWORD not in capsys.readouterr().err


def test_the_encrypted_pdf_errors_speak_of_the_password_field_not_a_cli_flag(tmp_path, locked):
    with make_client(tmp_path) as client:
        missing = upload(client, locked)
        assert missing.status_code == 422 and missing.json()["error"]["code"] == "encrypted"
        message = missing.json()["error"]["message"]
        assert "`password` field" in message and "--password" not in message
        review_id = missing.json()["error"]["review_id"]
        assert "`password` field" in client.get(f"/v1/reviews/{review_id}", headers=AUTH).json()["error"]["message"]
        wrong = upload(client, locked, password="not-the-password")
        assert wrong.json()["error"]["code"] == "wrong_password"
        assert "`password` field" in wrong.json()["error"]["message"]
