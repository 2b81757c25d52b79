"""/web/reviews/{id}/questions.{md,docx,pdf}: a review's clarification questions as a document for its
vendor, from the core (reviewer.queue.questions) as the viewer may see them: a blind panel's evaluator gets
the vendor's label, in the document and its file name. Each download is a `questions_exported` event by
the viewer."""

import asyncio
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reviewer.errors import ReviewerError
from reviewer.queue.questions import export_questions
from reviewer.render.questions import MEDIA_TYPES
from reviewer.web.auth import current_viewer
from reviewer.web.pages import HEADERS, STATUS_OF_CODE, error_page, panel_of, sign_in_page, store_of

router = APIRouter()


@router.get("/reviews/{review_id}/questions.{fmt}")
async def questions(request: Request, review_id: str, fmt: str) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    if fmt not in MEDIA_TYPES:
        return error_page(request, viewer, 404, "The questions come as Markdown (.md), Word (.docx) or PDF (.pdf).")
    store = store_of(request)
    job = await asyncio.to_thread(store.get, review_id)
    if job is None:
        return error_page(request, viewer, 404, f"There is no review with the id {review_id}.")
    try:
        exported = await asyncio.to_thread(
            export_questions,
            store,
            panel_of(request),
            request.app.state.services.proposals,
            job,
            viewer.name,
            lead=viewer.lead,
            format=fmt,
            issued_on=date.today(),
        )
    except ReviewerError as exc:
        message = exc.message
        if exc.code == "not_ready":
            message = f"The review's status is {job.status.value}: its questions can be downloaded once it is done."
        return error_page(request, viewer, STATUS_OF_CODE.get(exc.code, 422), message)
    disposition = f'attachment; filename="{exported.file_name}"'
    return Response(
        exported.content, media_type=exported.media_type, headers=HEADERS | {"Content-Disposition": disposition}
    )
