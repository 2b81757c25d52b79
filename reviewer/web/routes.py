"""/web: pages for people, server-rendered, plain forms that post and redirect (no JavaScript needed).
Every form carries a CSRF token; every page without a viewer answers 401 with the sign-in form."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from reviewer.web import question_pages, review_pages
from reviewer.web.auth import (
    csrf_ok,
    current_viewer,
    is_open,
    settings_of,
    signer_of,
)
from reviewer.web.pages import checked_post, error_page, page, secure, sign_in_page
from reviewer.web.session import CSRF_COOKIE, SESSION_COOKIE, SESSION_SECONDS

router = APIRouter(prefix="/web", include_in_schema=False)
router.include_router(review_pages.router)
router.include_router(question_pages.router)


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
    evaluator = (
        settings_of(request).api.evaluator_for_key(key.strip()) if isinstance(key, str) and key.strip() else None
    )
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
