"""The real server process on 127.0.0.1: upload, poll to done, and no job lost across a restart."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from tests.fake_anthropic_server import FakeAnthropicServer
from tests.pdfs import text_pdf

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
KEY = "server-test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, anthropic_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("REVIEWER_", "ANTHROPIC_"))},
            "REVIEWER_DATA_DIR": str(data_dir),
            "REVIEWER_API_KEYS": KEY,
            "REVIEWER_API_WORKER_CONCURRENCY": "1",
            "REVIEWER_JOB_POLL_SECONDS": "0.2",
            "REVIEWER_SDK_MAX_RETRIES": "0",
            "ANTHROPIC_API_KEY": "sk-ant-fake-key-for-tests",
            "ANTHROPIC_BASE_URL": anthropic_url,
        }
        self.process: subprocess.Popen | None = None
        self.log = data_dir.parent / f"server-{self.port}.log"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "reviewer.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                time.sleep(0.1)
        raise AssertionError("server did not start:\n" + self.log.read_text(errors="replace")[-2000:])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def upload(server: Server, data: bytes, name: str, backend: str) -> dict:
    response = httpx2.post(
        f"{server.url}/v1/reviews",
        headers=AUTH,
        timeout=10,
        files={"file": (name, data, "application/pdf")},
        data={"backend": backend},
    )
    assert response.status_code == 202, response.text
    return response.json()


def status(server: Server, review_id: str) -> str:
    return httpx2.get(f"{server.url}/v1/reviews/{review_id}", headers=AUTH, timeout=5).json()["status"]


def wait_until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_server_reviews_an_upload_and_finishes_queued_jobs_after_a_restart(tmp_path):
    with FakeAnthropicServer(delay=2.0) as model:
        server = Server(tmp_path / "data", model.url)
        server.start()
        try:
            quick = upload(server, (SAMPLES / "helix_systems.pdf").read_bytes(), "helix.pdf", "offline")
            wait_until(lambda: status(server, quick["id"]) == "done", 30)
            report = httpx2.get(f"{server.url}/v1/reviews/{quick['id']}", headers=AUTH).json()
            assert any(w["code"] == "prompt_injection" for w in report["review"]["warnings"])

            running = upload(server, text_pdf(["Proposal A: we agree an evaluation set first."]), "a.pdf", "anthropic")
            wait_until(lambda: status(server, running["id"]) == "running", 10)
            queued = upload(server, text_pdf(["Proposal B: data stays in the EU region."]), "b.pdf", "anthropic")
            assert status(server, queued["id"]) == "queued"
        finally:
            server.stop()

        restarted = Server(tmp_path / "data", model.url)
        restarted.start()
        try:
            assert status(restarted, quick["id"]) == "done"
            wait_until(lambda: status(restarted, running["id"]) == "done", 30)
            wait_until(lambda: status(restarted, queued["id"]) == "done", 30)
        finally:
            restarted.stop()
