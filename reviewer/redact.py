"""Redaction of secrets in text that came from outside (an upstream error, a gateway's echo, a database
message) before it is kept in a review, a job's error or a log line (issue 13, 'What can leak')."""

import re
from collections.abc import Iterable

from reviewer.config import Settings

REDACTED = "[redacted]"
MAX_KEPT_CHARS = 300

_TOKEN = r"[A-Za-z0-9+/_.~=-]"
_PATTERNS = [
    # Anthropic keys and the like (sk-ant-api03-..., sk-proj-..., sk-...).
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    # An HTTP credential: "Bearer <token>", "Basic <token>".
    re.compile(rf"(?i)\b(bearer|basic|token)\s+{_TOKEN}{{8,}}"),
    # A credential named as such: x-api-key: ..., "api_key": "...", password=..., secret=...
    re.compile(
        r"(?i)((?:x-)?api[-_ ]?key|authorization|access[-_]?token|auth[-_]?token|secret|password|passwd)"
        r"(['\"]?\s*[:=]\s*['\"]?)([^\s'\",;}&]{4,})"
    ),
    # Anything long enough and mixed enough to be a key: base64 / hex / url-safe runs with a digit and a letter.
    re.compile(rf"(?<![A-Za-z0-9+/_-])(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z]){_TOKEN}{{32,}}"),
]


def secrets_of(settings: Settings) -> list[str]:
    """Every configured secret, so it is removed whatever its shape."""
    values = [
        settings.anthropic.api_key,
        getattr(settings.openai, "api_key", None),
        settings.slack.bot_token,
        settings.slack.signing_secret,
        *settings.api.keys,
    ]
    return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


def redact(text: str, secrets: Iterable[str] = (), *, limit: int = MAX_KEPT_CHARS) -> str:
    """`text` with the given secrets and anything that looks like a key or token replaced by [redacted],
    then cut to `limit` characters. Secrets are removed before cutting, so no prefix of one survives."""
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        if pattern.groups == 3:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
