"""A fake Google OAuth token endpoint on 127.0.0.1, and a service-account key file that points at it: the
vertex backend's real credential path (google-auth's Application Default Credentials, a signed JWT exchanged
for an access token) runs end to end without the network."""

import base64
import json
import threading
import time
import urllib.parse
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.loopback import LoopbackServer, QuietHandler

ACCESS_TOKEN = "ya29.from-the-service-account"
CLIENT_EMAIL = "reviewer-ci@acme-rfp.iam.gserviceaccount.com"


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class FakeGoogleTokenServer(LoopbackServer):
    """Answers POST /token with an access token once the JWT assertion's signature checks out with the key
    file's public key; records the claims of every assertion it accepted."""

    def __init__(self, host_name: str = "127.0.0.1") -> None:
        self.host_name = host_name
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.claims: list[dict] = []
        self.requests = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["content-length"]))
                with outer._lock:
                    outer.requests += 1
                form = urllib.parse.parse_qs(raw.decode())
                claims = outer._verified(form.get("assertion", [""])[0])
                if self.path != "/token" or claims is None:
                    self._reply(400, {"error": "invalid_grant", "error_description": "bad assertion"})
                    return
                with outer._lock:
                    outer.claims.append(claims)
                self._reply(200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"})

            def _reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._serve(Handler)

    @property
    def token_uri(self) -> str:
        return f"http://{self.host_name}:{self.server.server_address[1]}/token"

    def _verified(self, assertion: str) -> dict | None:
        try:
            header, payload, signature = assertion.split(".")
            self.key.public_key().verify(
                _b64decode(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            claims = json.loads(_b64decode(payload))
        except Exception:
            return None
        return claims if claims.get("exp", 0) > time.time() else None

    def write_key_file(self, path: Path) -> Path:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        key = {
            "type": "service_account",
            "project_id": "acme-rfp",
            "private_key_id": "0123456789abcdef",
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000000",
            "token_uri": self.token_uri,
        }
        path.write_text(json.dumps(key))
        return path
