"""What every page of the web shell shares: the templates (autoescaped), the security headers, rendering a
page or the sign-in / error pages, and the checks every form post passes (a session, a valid CSRF token)."""

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reviewer.queue.panel import PanelService
from reviewer.render.wording import offline_banner
from reviewer.store import JobStore
from reviewer.web import views
from reviewer.web.auth import Viewer, cookie_csrf, csrf_ok, current_viewer
from reviewer.web.session import CSRF_COOKIE

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # every string from a document or the model is data
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.globals.update(
    grade_word=lambda g: views.GRADE_WORDS.get(g, "Not graded") if g else "Not graded",
    source_word=lambda s: views.SOURCE_WORDS.get(getattr(s, "value", s), str(s)),
    when=views.when,
    offline_banner=offline_banner,
)
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STATUS_OF_CODE = {"not_found": 404, "not_ready": 409}


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def page(request: Request, viewer: Viewer | None, template: str, status_code: int = 200, **context) -> HTMLResponse:
    csrf, cookie = (viewer.csrf, viewer.new_csrf_cookie) if viewer else cookie_csrf(request)
    body = TEMPLATES.get_template(template).render(viewer=viewer, csrf=csrf, **context)
    response = HTMLResponse(body, status_code=status_code, headers=HEADERS)
    if cookie:
        response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="lax", secure=secure(request), path="/web")
    return response


def sign_in_page(request: Request, status: int = 401, error: str | None = None) -> HTMLResponse:
    target = request.url.path if request.method == "GET" and request.url.path != "/web/login" else "/web/"
    return page(request, None, "login.html", status, error=error, next=target)


def error_page(request: Request, viewer: Viewer | None, status: int, message: str) -> HTMLResponse:
    return page(request, viewer, "error.html", status, status=status, message=message)


def store_of(request: Request) -> JobStore:
    return request.app.state.services.store


def panel_of(request: Request) -> PanelService:
    return request.app.state.services.panel


async def checked_post(request: Request) -> tuple[Viewer | None, dict, Response | None]:
    """The viewer and the form of a post, or the response refusing it (no session, no valid CSRF token)."""
    viewer = current_viewer(request)
    if viewer is None:
        return None, {}, sign_in_page(request, error="Sign in to continue.")
    form = dict(await request.form())
    if not csrf_ok(viewer.csrf, form.get("csrf")):
        return viewer, form, error_page(request, viewer, 403, "The form expired or was not sent from this site.")
    return viewer, form, None
