"""Request bodies, bounded before the app sees them (issue 13, "Resources").

A pure ASGI middleware, so nothing reads or spools a body behind its back: on the upload routes it checks
the API key from the headers before a byte of the body is read; on every route it counts the bytes
actually received (whatever Content-Length or chunked encoding claim) and stops at the route's limit
with 413, and it bounds the time a body may take to arrive with 408. Once it stops a request, whatever
the app answers is replaced by its own answer, so a parser's 400 never hides the reason."""

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviewer.api.errors import ApiError, error_body

Authenticate = Callable[[Request], None]


@dataclass(frozen=True)
class BodyRule:
    """What a request to one route may send: at most `max_bytes`, and a key checked before the body."""

    max_bytes: int
    authenticate_first: bool = False


class _Stopped(Exception):
    def __init__(self, error: ApiError) -> None:
        self.error = error


def _too_large(rule: BodyRule) -> ApiError:
    return ApiError(413, "too_large", f"the request body is over the limit of {rule.max_bytes / 1_048_576:.1f} MB")


class BodyLimits:
    def __init__(
        self,
        app: ASGIApp,
        *,
        rules: dict[tuple[str, str], BodyRule],
        default: BodyRule,
        timeout_seconds: float,
        authenticate: Authenticate,
    ) -> None:
        self.app = app
        self.rules = rules
        self.default = default
        self.timeout_seconds = timeout_seconds
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.rules.get((scope["method"], scope["path"].rstrip("/") or "/"), self.default)
        try:
            if rule.authenticate_first:
                self.authenticate(Request(scope))
            self._check_declared_length(scope, rule)
        except ApiError as exc:
            await _answer(send, exc)
            return

        stopped: list[ApiError] = []
        response_started = False
        received = 0
        deadline = time.monotonic() + self.timeout_seconds

        async def bounded_receive() -> Message:
            nonlocal received
            if stopped:
                raise _Stopped(stopped[0])
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                    message = await receive()
            except TimeoutError:
                stopped.append(
                    ApiError(408, "body_timeout", f"the request body took longer than {self.timeout_seconds:g} s")
                )
                raise _Stopped(stopped[0]) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > rule.max_bytes:
                    stopped.append(_too_large(rule))
                    raise _Stopped(stopped[0])
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if stopped and not response_started:
                return  # the app's answer to a body we cut off; ours is sent below
            response_started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except Exception:
            if not stopped or response_started:
                raise
        if stopped and not response_started:
            await _answer(send, stopped[0])

    @staticmethod
    def _check_declared_length(scope: Scope, rule: BodyRule) -> None:
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > rule.max_bytes:
                raise _too_large(rule)


async def _answer(send: Send, error: ApiError) -> None:
    body = json.dumps(error_body(error.code, error.message, **error.extra)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if error.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    # The body was not (fully) read: the connection cannot carry another request.
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
