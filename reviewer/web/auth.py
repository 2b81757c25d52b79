"""Who is looking at a page: a signed-in evaluator (session cookie), the one local user of a --no-auth
server, or nobody. And the CSRF check every form post passes."""

import hmac
from dataclasses import dataclass

from fastapi import Request

from reviewer.config import LOCAL_EVALUATOR, Settings
from reviewer.web.session import CSRF_COOKIE, SESSION_COOKIE, Signer


@dataclass
class Viewer:
    name: str
    lead: bool
    csrf: str
    signed_in: bool  # False for the local user of a --no-auth server (no sign-in, no sign-out)
    new_csrf_cookie: str | None = None  # set on the response when the CSRF token is new


def signer_of(request: Request) -> Signer:
    return request.app.state.web_signer


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def is_open(request: Request) -> bool:
    """A --no-auth server without keys: everyone is the local user, who leads their own evaluations."""
    return not settings_of(request).api.keys and bool(getattr(request.app.state, "allow_anonymous", False))


def cookie_csrf(request: Request) -> tuple[str, str | None]:
    """The CSRF token of a visitor without a session: from their signed cookie, or a new one to set."""
    signer = signer_of(request)
    token = signer.read_csrf(request.cookies.get(CSRF_COOKIE))
    if token is not None:
        return token, None
    token, cookie = signer.new_csrf()
    return token, cookie


def current_viewer(request: Request) -> Viewer | None:
    settings = settings_of(request)
    if is_open(request):
        token, cookie = cookie_csrf(request)
        return Viewer(name=LOCAL_EVALUATOR, lead=True, csrf=token, signed_in=False, new_csrf_cookie=cookie)
    session = signer_of(request).read_session(request.cookies.get(SESSION_COOKIE))
    if session is None or session.evaluator not in {name for name, _ in settings.api.evaluators()}:
        return None  # no session, a forged or expired one, or its key was removed since
    return Viewer(
        name=session.evaluator, lead=settings.api.is_lead(session.evaluator), csrf=session.csrf, signed_in=True
    )


def csrf_ok(expected: str | None, given: object) -> bool:
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())
