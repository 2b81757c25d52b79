"""/v1/reviews/{id}/rounds: clarification rounds. The vendor's answer (PDF or .docx) is attached to a
finished review and graded again with the proposal in the background of this process; the listing shows
each round with its per-criterion changes. The evaluator who opens a round is the request key's name."""

import asyncio

from fastapi import APIRouter, UploadFile
from pydantic import BaseModel

from reviewer.api.deps import EvaluatorDep, PanelDep, ProposalsDep, ReviewIdDep, RoundsDep, SettingsDep, StoreDep
from reviewer.api.errors import ApiError
from reviewer.api.schemas import error_responses
from reviewer.api.uploads import read_upload
from reviewer.queue.blind import blinded_rounds, review_as_seen_by
from reviewer.queue.rounds import RoundView
from reviewer.store import RoundStatus

router = APIRouter(prefix="/v1/reviews", tags=["rounds"])
UPLOAD_ERRORS = error_responses(404, 408, 409, 413, 415, 422)
READ_ERRORS = error_responses(404, 409, 422)


class RoundOpened(BaseModel):
    review_id: str
    number: int
    status: RoundStatus
    file_name: str


class RoundList(BaseModel):
    review_id: str
    items: list[RoundView]


@router.post(
    "/{review_id}/rounds",
    status_code=202,
    response_model=RoundOpened,
    responses=UPLOAD_ERRORS,
    summary="Attach the vendor's answer to a finished review: a new round, graded with both documents",
)
async def open_round(
    review_id: ReviewIdDep, file: UploadFile, settings: SettingsDep, rounds: RoundsDep, evaluator: EvaluatorDep
) -> RoundOpened:
    data = await read_upload(file, settings.ingest.max_file_bytes)
    opened = await rounds.open(review_id, data, file.filename or "answer.pdf", evaluator.name)
    rounds.start(opened)
    return RoundOpened(review_id=review_id, number=opened.number, status=opened.status, file_name=opened.file_name)


async def _views(review_id: str, rounds, store, evaluator, panel, proposals, *, with_reviews: bool) -> list[RoundView]:
    blind = await asyncio.to_thread(store.in_blind_batch, review_id)
    views = await asyncio.to_thread(
        rounds.rounds,
        review_id,
        with_reviews=with_reviews,
        viewer=evaluator.name,
        lead=evaluator.lead,
        blind=blind,
    )
    if blind and not evaluator.lead:
        job = await asyncio.to_thread(store.get, review_id)
        seen = await asyncio.to_thread(
            review_as_seen_by, store, panel, job, evaluator.name, lead=False, pages=proposals
        )
        views = blinded_rounds(views, review_id, seen)
    return views


@router.get(
    "/{review_id}/rounds",
    response_model=RoundList,
    responses=READ_ERRORS,
    summary="The review's rounds, oldest first, each with its per-criterion changes since the previous one",
)
async def list_rounds(
    review_id: ReviewIdDep,
    rounds: RoundsDep,
    store: StoreDep,
    evaluator: EvaluatorDep,
    panel: PanelDep,
    proposals: ProposalsDep,
) -> RoundList:
    views = await _views(review_id, rounds, store, evaluator, panel, proposals, with_reviews=False)
    return RoundList(review_id=review_id, items=views)


@router.get(
    "/{review_id}/rounds/{number}",
    response_model=RoundView,
    responses=READ_ERRORS,
    summary="One round with its own review (round 1's is GET /v1/reviews/{id})",
)
async def get_round(
    review_id: ReviewIdDep,
    number: int,
    rounds: RoundsDep,
    store: StoreDep,
    evaluator: EvaluatorDep,
    panel: PanelDep,
    proposals: ProposalsDep,
) -> RoundView:
    views = await _views(review_id, rounds, store, evaluator, panel, proposals, with_reviews=True)
    found = next((v for v in views if v.number == number), None)
    if found is None:
        raise ApiError(404, "not_found", f"review '{review_id}' has no round {number}")
    return found
