"""/web: pages for people, server-rendered, plain forms that post and redirect (no JavaScript needed).
Every form carries a CSRF token; every page without a viewer answers 401 with the sign-in form."""

import asyncio
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import ValidationError

from reviewer.errors import BadInputError, ReviewerError
from reviewer.queue.panel import AssessmentInput, PanelService
from reviewer.render import comparison as render_comparison
from reviewer.render.wording import offline_banner
from reviewer.store import JobStore
from reviewer.web import views
from reviewer.web.auth import (
    Viewer,
    cookie_csrf,
    csrf_ok,
    current_viewer,
    evaluator_for_key,
    is_open,
    settings_of,
    signer_of,
)
from reviewer.web.session import CSRF_COOKIE, SESSION_COOKIE, SESSION_SECONDS

router = APIRouter(prefix="/web", include_in_schema=False)

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


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def page(request: Request, viewer: Viewer | None, template: str, status_code: int = 200, **context) -> HTMLResponse:
    csrf, cookie = (viewer.csrf, viewer.new_csrf_cookie) if viewer else cookie_csrf(request)
    body = TEMPLATES.get_template(template).render(viewer=viewer, csrf=csrf, **context)
    response = HTMLResponse(body, status_code=status_code, headers=HEADERS)
    if cookie:
        response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="lax", secure=_secure(request), path="/web")
    return response


def sign_in_page(request: Request, status: int = 401, error: str | None = None) -> HTMLResponse:
    target = request.url.path if request.method == "GET" and request.url.path != "/web/login" else "/web/"
    return page(request, None, "login.html", status, error=error, next=target)


def error_page(request: Request, viewer: Viewer | None, status: int, message: str) -> HTMLResponse:
    return page(request, viewer, "error.html", status, status=status, message=message)


def _store(request: Request) -> JobStore:
    return request.app.state.services.store


def _panel(request: Request) -> PanelService:
    return request.app.state.services.panel


def _safe_next(target: object) -> str:
    """Only a path of this app: never another site (an open redirect)."""
    if isinstance(target, str) and target.startswith("/web/") and not target.startswith("//"):
        return target
    return "/web/"


@router.get("/login")
async def login_form(request: Request) -> Response:
    if is_open(request) or current_viewer(request) is not None:
        return RedirectResponse("/web/", status_code=303)
    return sign_in_page(request, status=200)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    token = signer_of(request).read_csrf(request.cookies.get(CSRF_COOKIE))
    if not csrf_ok(token, form.get("csrf")):
        return error_page(request, None, 403, "The form expired: open the page again.")
    key = form.get("key")
    evaluator = evaluator_for_key(settings_of(request), key.strip()) if isinstance(key, str) and key.strip() else None
    if evaluator is None:
        return page(
            request, None, "login.html", 401, error="That API key is not valid.", next=_safe_next(form.get("next"))
        )
    _, cookie = signer_of(request).new_session(evaluator)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/web",
    )
    response.delete_cookie(CSRF_COOKIE, path="/web")
    return response


async def _checked_post(request: Request) -> tuple[Viewer | None, dict, Response | None]:
    """The viewer and the form of a post, or the response refusing it (no session, no valid CSRF token)."""
    viewer = current_viewer(request)
    if viewer is None:
        return None, {}, sign_in_page(request, error="Sign in to continue.")
    form = dict(await request.form())
    if not csrf_ok(viewer.csrf, form.get("csrf")):
        return viewer, form, error_page(request, viewer, 403, "The form expired or was not sent from this site.")
    return viewer, form, None


@router.post("/logout")
async def logout(request: Request) -> Response:
    _, _, refused = await _checked_post(request)
    if refused is not None:
        return refused
    response = RedirectResponse("/web/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/web")
    return response


@router.get("/")
async def home(request: Request) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    rows = await asyncio.to_thread(views.evaluations, _store(request))
    return page(request, viewer, "home.html", rows=rows)


async def _review_response(
    request: Request, viewer: Viewer, review_id: str, status: int = 200, **form_state
) -> HTMLResponse:
    services = request.app.state.services
    data = await asyncio.to_thread(
        views.review_page, services.store, services.panel, services.catalog, review_id, viewer.name, viewer.lead
    )
    if data is None:
        return error_page(request, viewer, 404, f"There is no review with the id {review_id}.")
    return page(
        request,
        viewer,
        "review.html",
        status,
        data=data,
        errors=form_state.get("errors", {}),
        values=form_state.get("values", {}),
        saved=request.query_params.get("saved"),
    )


@router.get("/reviews/{review_id}")
async def review(request: Request, review_id: str) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    return await _review_response(request, viewer, review_id)


STATUS_OF_CODE = {"not_found": 404, "not_ready": 409}


@router.post("/reviews/{review_id}/assessments")
async def assess(request: Request, review_id: str) -> Response:
    viewer, form, refused = await _checked_post(request)
    if refused is not None:
        return refused
    assert viewer is not None
    criterion = str(form.get("criterion_id", ""))
    values = {k: str(form.get(k, "")) for k in ("grade", "reason", "note")}
    try:
        given = AssessmentInput(
            criterion_id=criterion,
            grade=values["grade"],
            reason=values["reason"] or None,
            note=values["note"] or None,
        )
        await _panel(request).assess(review_id, viewer.name, given)
    except ValidationError as exc:
        message = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in exc.errors())
        return await _review_response(
            request, viewer, review_id, 422, errors={criterion: message}, values={criterion: values}
        )
    except BadInputError as exc:
        return await _review_response(
            request, viewer, review_id, 422, errors={criterion: exc.message}, values={criterion: values}
        )
    except ReviewerError as exc:
        return error_page(request, viewer, STATUS_OF_CODE.get(exc.code, 422), exc.message)
    anchor = quote(f"c-{criterion}")
    return RedirectResponse(f"/web/reviews/{review_id}?saved={quote(criterion)}#{anchor}", status_code=303)


async def _comparison(request: Request, viewer: Viewer, batch_id: str):
    services = request.app.state.services
    try:
        return await asyncio.to_thread(views.comparison_page, services.store, services.catalog, batch_id, viewer.lead)
    except ReviewerError as exc:  # e.g. the batch's rubric file was removed since
        raise _PageError(422, exc.message) from None


class _PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


@router.get("/batches/{batch_id}")
async def batch(request: Request, batch_id: str) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    try:
        data = await _comparison(request, viewer, batch_id)
    except _PageError as exc:
        return error_page(request, viewer, exc.status, exc.message)
    if data is None:
        return error_page(request, viewer, 404, f"There is no evaluation with the id {batch_id}.")
    return page(request, viewer, "batch.html", data=data)


@router.get("/batches/{batch_id}/comparison.{fmt}")
async def download(request: Request, batch_id: str, fmt: Literal["csv", "xlsx", "html", "md"]) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    try:
        data = await _comparison(request, viewer, batch_id)
    except _PageError as exc:
        return error_page(request, viewer, exc.status, exc.message)
    if data is None:
        return error_page(request, viewer, 404, f"There is no evaluation with the id {batch_id}.")
    if data.comparison is None:
        return error_page(request, viewer, 409, "The comparison is ready once every review has finished.")
    c = data.comparison
    disposition = {"Content-Disposition": f'attachment; filename="comparison-{batch_id}.{fmt}"'}
    if fmt == "csv":
        return PlainTextResponse(render_comparison.to_csv(c), media_type="text/csv; charset=utf-8", headers=disposition)
    if fmt == "md":
        return PlainTextResponse(
            render_comparison.to_markdown(c), media_type="text/markdown; charset=utf-8", headers=disposition
        )
    if fmt == "html":
        return HTMLResponse(render_comparison.to_html(c), headers=disposition)
    xlsx = await asyncio.to_thread(render_comparison.to_xlsx, c)
    return Response(
        xlsx, headers=disposition, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
