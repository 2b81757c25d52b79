"""The service's log lines: one per event on stderr, as text or as JSON for log collectors. Lines
carry ids, codes and timings, never document text or keys."""

import json
import logging
import sys
import unicodedata
from datetime import UTC, datetime
from typing import Literal, TextIO

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def escape_controls(text: str) -> str:
    """Control and format characters (NUL, CR, LF, ESC, bidi overrides, ...) as visible escapes: a
    request path or file name can carry them, and raw they forge lines or garble terminals."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch == " " or unicodedata.category(ch)[0] not in "CZ" else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


class TextFormatter(logging.Formatter):
    """The text line, with the message's control characters escaped (a traceback keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": escape_controls(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _ReviewerHandler(logging.StreamHandler):
    """Marks the handler this module installed, so configuring again replaces it instead of adding one."""


def configure_logging(log_format: LogFormat = "text", stream: TextIO | None = None) -> None:
    """Log the reviewer's own loggers at INFO on stderr in the given format (uvicorn configures its own)."""
    logger = logging.getLogger("reviewer")
    for handler in [h for h in logger.handlers if isinstance(h, _ReviewerHandler)]:
        logger.removeHandler(handler)
    handler = _ReviewerHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the CLI's root handler would print every line a second time


def uvicorn_log_config(log_format: LogFormat) -> dict | None:
    """uvicorn's own lines in the same format (None: uvicorn's default text)."""
    if log_format != "json":
        return None
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "reviewer.logs.JsonFormatter"}},
        "handlers": {"default": handler},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
    }
