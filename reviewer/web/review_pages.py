"""/web/reviews/{id}: a review's page and the forms posted from it (an evaluator's assessment)."""

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from reviewer.errors import BadInputError, ReviewerError
from reviewer.queue.panel import AssessmentInput
from reviewer.web import views
from reviewer.web.auth import Viewer, current_viewer
from reviewer.web.pages import STATUS_OF_CODE, checked_post, error_page, page, panel_of, sign_in_page

router = APIRouter()


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
