"""/web: pages for people, server-rendered, plain forms that post and redirect (no JavaScript needed).
Every form carries a CSRF token; every page without a viewer answers 401 with the sign-in form."""

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from reviewer.errors import ReviewerError
from reviewer.render import comparison as render_comparison
from reviewer.web import review_pages, views
from reviewer.web.auth import (
    Viewer,
    csrf_ok,
    current_viewer,
    evaluator_for_key,
    is_open,
    settings_of,
    signer_of,
)
from reviewer.web.pages import checked_post, error_page, page, secure, sign_in_page, store_of
from reviewer.web.session import CSRF_COOKIE, SESSION_COOKIE, SESSION_SECONDS

router = APIRouter(prefix="/web", include_in_schema=False)
router.include_router(review_pages.router)


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
        secure=secure(request),
        path="/web",
    )
    response.delete_cookie(CSRF_COOKIE, path="/web")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    _, _, refused = await checked_post(request)
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
    rows = await asyncio.to_thread(views.evaluations, store_of(request))
    return page(request, viewer, "home.html", rows=rows)


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
