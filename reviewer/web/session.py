"""Signed cookies: the session (who signed in, their CSRF token, until when) and, before sign-in, a CSRF
token of its own. Values are HMAC-SHA256 signed with the server's secret; nothing here is encrypted, so
nothing secret goes in (the API key never does)."""

import base64
import hashlib
import hmac
import json
import secrets
import time

from pydantic import BaseModel, ValidationError

SESSION_COOKIE = "reviewer_session"
CSRF_COOKIE = "reviewer_csrf"
SESSION_SECONDS = 12 * 3600


class Session(BaseModel):
    evaluator: str
    csrf: str
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: str, payload: str) -> str:
        return _b64(hmac.new(self._secret, f"{purpose}\x1f{payload}".encode(), hashlib.sha256).digest())

    def sign(self, purpose: str, payload: str) -> str:
        return f"{payload}.{self._mac(purpose, payload)}"

    def unsign(self, purpose: str, value: str | None) -> str | None:
        """The payload, or None when the value is missing or its signature is not ours."""
        if not value or "." not in value:
            return None
        payload, mac = value.rsplit(".", 1)
        return payload if hmac.compare_digest(mac, self._mac(purpose, payload)) else None

    def new_session(self, evaluator: str, now: float | None = None) -> tuple[Session, str]:
        session = Session(
            evaluator=evaluator, csrf=secrets.token_urlsafe(24), expires=(now or time.time()) + SESSION_SECONDS
        )
        return session, self.sign("session", _b64(session.model_dump_json().encode()))

    def read_session(self, value: str | None, now: float | None = None) -> Session | None:
        payload = self.unsign("session", value)
        if payload is None:
            return None
        try:
            session = Session.model_validate(json.loads(_unb64(payload)))
        except (ValueError, ValidationError):
            return None
        return session if session.expires > (now or time.time()) else None

    def new_csrf(self) -> tuple[str, str]:
        """(the token forms carry, the cookie value that vouches for it)."""
        token = secrets.token_urlsafe(24)
        return token, self.sign("csrf", token)

    def read_csrf(self, value: str | None) -> str | None:
        return self.unsign("csrf", value)
