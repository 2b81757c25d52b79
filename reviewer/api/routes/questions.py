"""/v1/reviews/{id}/questions: the review's open clarification questions as a document for the vendor
(Markdown, DOCX or PDF), from its latest done round's final grades as the key's evaluator may see them;
each export is a `questions_exported` event by that evaluator."""

import asyncio
from datetime import date

from fastapi import APIRouter, Response

from reviewer.api.deps import EvaluatorDep, PanelDep, ProposalsDep, ReviewIdDep, StoreDep
from reviewer.api.errors import ApiError
from reviewer.api.schemas import error_responses
from reviewer.queue.questions import export_questions
from reviewer.render.questions import MEDIA_TYPES, QuestionFormat

router = APIRouter(prefix="/v1/reviews", tags=["rounds"])


@router.get(
    "/{review_id}/questions",
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}, **error_responses(404, 409, 422)},
    summary="The open clarification questions for the vendor, as a document (409 until the review is done)",
)
async def get_questions(
    review_id: ReviewIdDep,
    store: StoreDep,
    panel: PanelDep,
    proposals: ProposalsDep,
    evaluator: EvaluatorDep,
    format: QuestionFormat = "md",
) -> Response:
    job = await asyncio.to_thread(store.get, review_id)
    if job is None:  # deleted since the id was resolved
        raise ApiError(404, "not_found", f"no review with id '{review_id}'")
    exported = await asyncio.to_thread(
        export_questions,
        store,
        panel,
        proposals,
        job,
        evaluator.name,
        lead=evaluator.lead,
        format=format,
        issued_on=date.today(),
    )
    return Response(
        exported.content,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.file_name}"'},
    )
