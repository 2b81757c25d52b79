"""/web/reviews/{id}: a review's page and the forms posted from it (an evaluator's assessment, the lead's
consensus), each page of its proposal with the cited quotes marked (and the page as a picture), and the
review's audit trail."""

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from reviewer.errors import BadInputError, ReviewerError
from reviewer.page_image import Unmaskable
from reviewer.queue.panel import AssessmentInput, ConsensusInput, NotAllowed
from reviewer.queue.proposal import ProposalPages
from reviewer.render.wording import open_question
from reviewer.web import review_views
from reviewer.web.auth import Viewer, current_viewer
from reviewer.web.pages import STATUS_OF_CODE, checked_post, error_page, page, panel_of, sign_in_page

router = APIRouter()
IMAGE_HEADERS = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}


def _proposal_pages(request: Request) -> ProposalPages:
    state = request.app.state
    return getattr(state, "web_proposal_pages", None) or state.services.proposals


def _not_found(request: Request, viewer: Viewer, review_id: str) -> HTMLResponse:
    return error_page(request, viewer, 404, f"There is no review with the id {review_id}.")


async def _review_response(
    request: Request, viewer: Viewer, review_id: str, status: int = 200, **form_state
) -> HTMLResponse:
    services = request.app.state.services
    data = await asyncio.to_thread(
        review_views.review_page, services, _proposal_pages(request), review_id, viewer.name, viewer.lead
    )
    if data is None:
        return _not_found(request, viewer, review_id)
    return page(
        request,
        viewer,
        "review.html",
        status,
        data=data,
        quote_id=review_views.quote_id,
        open_question=open_question,
        page_path=review_views.page_path,
        errors=form_state.get("errors", {}),
        values=form_state.get("values", {}),
        saved=request.query_params.get("saved"),
        agreed=request.query_params.get("agreed"),
    )


@router.get("/reviews/{review_id}")
async def review(request: Request, review_id: str) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    return await _review_response(request, viewer, review_id)


def _invalid(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in exc.errors())


def _saved(review_id: str, flag: str, criterion: str) -> RedirectResponse:
    anchor = quote(f"c-{criterion}")
    return RedirectResponse(f"/web/reviews/{review_id}?{flag}={quote(criterion)}#{anchor}", status_code=303)


@router.post("/reviews/{review_id}/assessments")
async def assess(request: Request, review_id: str) -> Response:
    viewer, form, refused = await checked_post(request)
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
        await panel_of(request).assess(review_id, viewer.name, given)
    except (ValidationError, BadInputError) as exc:
        message = _invalid(exc) if isinstance(exc, ValidationError) else exc.message
        return await _review_response(
            request, viewer, review_id, 422, errors={criterion: message}, values={criterion: values}
        )
    except ReviewerError as exc:
        return error_page(request, viewer, STATUS_OF_CODE.get(exc.code, 422), exc.message)
    return _saved(review_id, "saved", criterion)


@router.post("/reviews/{review_id}/consensus")
async def consensus(request: Request, review_id: str) -> Response:
    """The lead's consensus, through the same PanelService as PUT /v1/reviews/{id}/consensus/{criterion}."""
    viewer, form, refused = await checked_post(request)
    if refused is not None:
        return refused
    assert viewer is not None
    criterion = str(form.get("criterion_id", ""))
    values = {k: str(form.get(k, "")) for k in ("grade", "reason")}
    key = f"consensus:{criterion}"
    try:
        given = ConsensusInput(grade=values["grade"], reason=values["reason"])
        await panel_of(request).set_consensus(review_id, criterion, viewer.name, viewer.lead, given)
    except NotAllowed as exc:
        return error_page(request, viewer, 403, exc.message)
    except (ValidationError, BadInputError) as exc:
        message = _invalid(exc) if isinstance(exc, ValidationError) else exc.message
        return await _review_response(request, viewer, review_id, 422, errors={key: message}, values={key: values})
    except ReviewerError as exc:
        return error_page(request, viewer, STATUS_OF_CODE.get(exc.code, 422), exc.message)
    return _saved(review_id, "agreed", criterion)


def _page_number(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 6 else None


async def _file_page(request: Request, review_id: str, round_number: int, number: str) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    services = request.app.state.services
    if (found := _page_number(number)) is None:
        return error_page(request, viewer, 404, "A page number is a whole number from 1.")
    try:
        data = await asyncio.to_thread(
            review_views.proposal_page,
            services,
            _proposal_pages(request),
            review_id,
            found,
            viewer.name,
            viewer.lead,
            round_number,
        )
    except review_views.NoSuchPage:
        return error_page(request, viewer, 404, _no_page(round_number, number))
    if data is None:
        return _not_found(request, viewer, review_id)
    return page(request, viewer, "proposal_page.html", data=data)


def _no_page(round_number: int, number: str) -> str:
    if round_number == 1:
        return f"The review's proposal has no page {number}."
    return f"The review has no answer of round {round_number} with a page {number}."


async def _file_picture(request: Request, review_id: str, round_number: int, number: str) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    services, pages = request.app.state.services, _proposal_pages(request)
    found = _page_number(number)
    png: object = None
    try:
        seen = None
        if found is not None:
            seen = await asyncio.to_thread(
                review_views.seen_for_page, services, pages, review_id, round_number, found, viewer.name, viewer.lead
            )
            if seen is None:
                return _not_found(request, viewer, review_id)
            png = await asyncio.to_thread(review_views.picture, pages, seen, round_number, found)
        elif await asyncio.to_thread(services.store.get, review_id) is None:
            return _not_found(request, viewer, review_id)
    except review_views.NoSuchPage:
        pass
    if isinstance(png, Unmaskable):
        return error_page(request, viewer, 404, f"The picture of page {number} is not shown on a blind panel: {png}.")
    if not isinstance(png, bytes):
        return error_page(request, viewer, 404, f"Page {number} of the file has no picture (read its text).")
    return Response(png, media_type="image/png", headers=IMAGE_HEADERS)


@router.get("/reviews/{review_id}/pages/{number}")
async def proposal_page(request: Request, review_id: str, number: str) -> Response:
    return await _file_page(request, review_id, 1, number)


@router.get("/reviews/{review_id}/pages/{number}/image.png")
async def page_image(request: Request, review_id: str, number: str) -> Response:
    return await _file_picture(request, review_id, 1, number)


@router.get("/reviews/{review_id}/rounds/{round_number}/pages/{number}")
async def answer_page(request: Request, review_id: str, round_number: str, number: str) -> Response:
    """A page of a clarification round's answer, with the quotes the review cites from it marked."""
    if (part := _round_part(round_number)) is None:
        return _no_round(request, round_number)
    return await _file_page(request, review_id, part, number)


@router.get("/reviews/{review_id}/rounds/{round_number}/pages/{number}/image.png")
async def answer_image(request: Request, review_id: str, round_number: str, number: str) -> Response:
    if (part := _round_part(round_number)) is None:
        return _no_round(request, round_number)
    return await _file_picture(request, review_id, part, number)


def _round_part(round_number: str) -> int | None:
    """The file a round number names: 1 the proposal itself, N the answer of round N; None for no round."""
    found = _page_number(round_number)
    return found if found is not None and found >= 1 else None


def _no_round(request: Request, round_number: str) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    return error_page(request, viewer, 404, f"There is no clarification round {round_number}.")


@router.get("/reviews/{review_id}/audit")
async def audit(request: Request, review_id: str) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    services = request.app.state.services
    number = _page_number(request.query_params.get("page", "1")) or 1
    data = await asyncio.to_thread(
        review_views.audit_page, services, _proposal_pages(request), review_id, number, viewer.name, viewer.lead
    )
    if data is None:
        return _not_found(request, viewer, review_id)
    return page(request, viewer, "audit.html", data=data)
