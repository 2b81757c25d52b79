"""Upload bodies against a real uvicorn on 127.0.0.1, over raw sockets: the key is checked before the
body is read, bytes are counted whatever the headers say, and a body has a deadline (issue 13)."""

import json
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from reviewer.api.app import create_app
from reviewer.config import ApiSettings, IngestSettings, JobSettings, Settings, StorageSettings
from tests.pdfs import text_pdf

KEY = "body-limit-test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
BOUNDARY = "reviewer-test-boundary"
CHUNK = 64 * 1024
ATTEMPT_BYTES = 256 * 1024 * 1024
# What the kernel's socket buffers on both ends can swallow before the server reads: far less than this.
STOPPED_BY = 48 * 1024 * 1024


def make_settings(tmp_path: Path, **api: object) -> Settings:
    return Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        api=ApiSettings(keys=[KEY], **api),
        ingest=IngestSettings(max_file_bytes=1024 * 1024),
        jobs=JobSettings(poll_seconds=0.05),
    )


class LiveServer:
    """create_app served by uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, settings: Settings) -> None:
        config = uvicorn.Config(
            create_app(settings, run_workers=False), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise AssertionError("uvicorn did not start")
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


class ChunkedUpload:
    """POST a multipart body with Transfer-Encoding: chunked and no Content-Length, reading the answer
    on another thread while sending (the server may answer, and close, long before the body ends)."""

    def __init__(self, port: int, path: str, headers: dict[str, str]) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.answer = b""
        self.closed = threading.Event()
        lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Transfer-Encoding: chunked"]
        lines.append(f"Content-Type: multipart/form-data; boundary={BOUNDARY}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        threading.Thread(target=self._read, daemon=True).start()
        part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        self._chunk((part + "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n").encode())

    def _read(self) -> None:
        try:
            while data := self.sock.recv(65536):
                self.answer += data
        except OSError:
            pass
        self.closed.set()

    def _chunk(self, data: bytes) -> None:
        self.sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def stream(self, total: int) -> int:
        """Send filler until `total` bytes or until the server stops taking them; returns bytes sent."""
        sent = 0
        filler = b"0" * CHUNK
        try:
            while sent < total and not self.answer:
                self._chunk(filler)
                sent += CHUNK
        except OSError:  # reset, broken pipe, or the server stopped reading (send timed out)
            pass
        return sent

    def status_and_body(self, wait: float = 10) -> tuple[int, dict]:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not self.closed.is_set():
            head, _, body = self.answer.partition(b"\r\n\r\n")
            length = [int(v) for k, _, v in (h.partition(b": ") for h in head.split(b"\r\n")) if k == b"content-length"]
            if length and len(body) >= length[0]:
                break
            time.sleep(0.02)
        head, _, body = self.answer.partition(b"\r\n\r\n")
        assert head and body, f"no answer from the server: {self.answer!r}"
        return int(head.split()[1]), json.loads(body)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("path", ["/v1/reviews", "/v1/batches"])
@pytest.mark.parametrize("key", [None, "not-the-key-at-all-000000"])
def test_a_chunked_upload_without_a_valid_key_is_refused_before_its_body_is_read(tmp_path, path, key):
    with LiveServer(make_settings(tmp_path)) as server:
        upload = ChunkedUpload(server.port, path, {"Authorization": f"Bearer {key}"} if key else {})
        try:
            sent = upload.stream(ATTEMPT_BYTES)
            status, body = upload.status_and_body()
        finally:
            upload.close()
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert sent < STOPPED_BY, f"the server read {sent} bytes of a body it refuses"


@pytest.mark.parametrize("path", ["/v1/reviews", "/v1/batches"])
def test_a_chunked_upload_is_cut_off_at_the_limit_whatever_the_headers_say(tmp_path, path):
    settings = make_settings(tmp_path, max_batch_bytes=3 * 1024 * 1024)
    with LiveServer(settings) as server:
        upload = ChunkedUpload(server.port, path, AUTH)
        try:
            sent = upload.stream(ATTEMPT_BYTES)
            status, body = upload.status_and_body()
        finally:
            upload.close()
    assert status == 413 and body["error"]["code"] == "too_large"
    assert sent < STOPPED_BY, f"the server kept reading: {sent} bytes"


def test_a_declared_length_over_the_limit_is_refused_without_reading(tmp_path):
    with (
        LiveServer(make_settings(tmp_path)) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
    ):
        sock.sendall(
            f"POST /v1/reviews HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {10**12}\r\n\r\n".encode()
        )
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_body_that_trickles_in_is_cut_off_at_the_deadline(tmp_path):
    with LiveServer(make_settings(tmp_path, body_timeout_seconds=0.5)) as server:
        upload = ChunkedUpload(server.port, "/v1/reviews", AUTH)
        started = time.monotonic()
        try:
            status, body = upload.status_and_body(wait=10)
        finally:
            upload.close()
    assert status == 408 and body["error"]["code"] == "body_timeout"
    assert time.monotonic() - started < 5


def test_each_file_of_a_batch_has_the_per_file_limit_not_the_whole_batch(tmp_path):
    limit = 200_000
    settings = make_settings(tmp_path).updated(ingest={"max_file_bytes": limit})
    files = [
        (
            "files",
            (f"vendor-{n}.pdf", text_pdf([f"Proposal {n} with enough text."]) + b"%" * 150_000, "application/pdf"),
        )
        for n in range(3)
    ]
    assert all(len(f[1][1]) < limit for f in files) and sum(len(f[1][1]) for f in files) > limit
    with TestClient(create_app(settings, run_workers=False)) as client:
        answer = client.post("/v1/batches", headers=AUTH, files=files, data={"backend": "offline"})
        assert answer.status_code == 202, answer.text
        items = answer.json()["items"]
        assert [i["error"] for i in items] == [None, None, None] and all(i["job_id"] for i in items)
        too_big = [("files", ("big.pdf", b"%PDF-1.7\n" + b"0" * (limit + 1), "application/pdf"))]
        item = client.post("/v1/batches", headers=AUTH, files=files[:1] + too_big).json()["items"][1]
        assert item["error"].startswith("too_large")
