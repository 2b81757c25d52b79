"""A fake Slack Web API on 127.0.0.1: files.info, file downloads (bot token required), chat.postMessage."""

import json
from urllib.parse import parse_qs, urlparse

from tests.loopback import LoopbackServer, QuietHandler


class FakeSlack(LoopbackServer):
    def __init__(self, token: str) -> None:
        self.token = token
        self.files: dict[str, dict] = {}
        self.contents: dict[str, bytes] = {}
        self.posted: list[dict] = []
        self.views: list[dict] = []
        self.downloads: list[str] = []
        outer = self

        class Handler(QuietHandler):
            def _params(self) -> dict:
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                if raw and "json" in (self.headers.get("content-type") or ""):
                    return {**query, **json.loads(raw)}
                return {**query, **{k: v[0] for k, v in parse_qs(raw.decode()).items()}}

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _api(self) -> None:
                path = urlparse(self.path).path
                params = self._params()
                if path.startswith("/download/"):
                    file_id = path.rsplit("/", 1)[1]
                    if self.headers.get("authorization") != f"Bearer {outer.token}":
                        self._send(403, b"forbidden", "text/plain")
                        return
                    outer.downloads.append(file_id)
                    self._send(200, outer.contents[file_id], "application/octet-stream")
                    return
                method = path.removeprefix("/api/")
                if method == "auth.test":
                    answer = {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "reviewer"}
                elif method == "files.info":
                    answer = {"ok": True, "file": outer.files[params["file"]]}
                elif method == "chat.postMessage":
                    if isinstance(params.get("blocks"), str):
                        params["blocks"] = json.loads(params["blocks"])
                    outer.posted.append(params)
                    answer = {"ok": True, "ts": f"1700000001.{len(outer.posted):06d}", "channel": params["channel"]}
                elif method == "views.open":
                    if isinstance(params.get("view"), str):
                        params["view"] = json.loads(params["view"])
                    outer.views.append(params)
                    answer = {"ok": True, "view": {"id": f"V{len(outer.views)}"}}
                else:
                    answer = {"ok": False, "error": "unknown_method"}
                self._send(200, json.dumps(answer).encode())

            do_GET = _api
            do_POST = _api

        self._serve(Handler)

    def add_file(self, file_id: str, name: str, content: bytes, filetype: str = "pdf", size: int | None = None) -> None:
        self.files[file_id] = {
            "id": file_id,
            "name": name,
            "filetype": filetype,
            "mimetype": "application/pdf" if filetype == "pdf" else "text/plain",
            "size": len(content) if size is None else size,
            "url_private_download": f"{self.url}/download/{file_id}",
        }
        self.contents[file_id] = content
