"""/v1/reviews/{id}: the panel's side of a review: assessments by named evaluators, the lead's consensus,
and the audit trail. The evaluator is the name of the request's API key."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from reviewer.api.deps import EvaluatorDep, PanelDep, ProposalsDep, ReviewIdDep, StoreDep
from reviewer.api.schemas import ErrorResponse
from reviewer.queue.blind import blinded_event, review_as_seen_by
from reviewer.queue.panel import AssessmentInput, ConsensusInput
from reviewer.queue.results import events_visible_to, panel_of
from reviewer.queue.review_ids import resolve_review_id
from reviewer.review import Assessment, Consensus
from reviewer.store import AuditEvent

router = APIRouter(prefix="/v1/reviews", tags=["panel"])
ERRORS = {status: {"model": ErrorResponse} for status in (401, 404, 409, 422)}


class AuditPage(BaseModel):
    items: list[AuditEvent]
    total: int
    limit: int
    offset: int


@router.post(
    "/{review_id}/assessments",
    status_code=201,
    response_model=Assessment,
    responses=ERRORS,
    summary="Confirm or change one criterion's grade (a reason is required when it differs from the grader's)",
)
async def add_assessment(
    review_id: ReviewIdDep, given: AssessmentInput, panel: PanelDep, evaluator: EvaluatorDep
) -> Assessment:
    return await panel.assess(review_id, evaluator.name, given)


@router.put(
    "/{review_id}/consensus/{criterion_id}",
    response_model=Consensus,
    responses={403: {"model": ErrorResponse}, **ERRORS},
    summary="Set the panel's final grade of a criterion (evaluation leads only)",
)
async def set_consensus(
    review_id: ReviewIdDep, criterion_id: str, given: ConsensusInput, panel: PanelDep, evaluator: EvaluatorDep
) -> Consensus:
    return await panel.set_consensus(review_id, criterion_id, evaluator.name, evaluator.lead, given)


@router.get(
    "/{review_id}/audit",
    response_model=AuditPage,
    responses=ERRORS,
    summary="The review's events, oldest first (a deleted review's by its full id)",
)
async def audit(
    review_id: str,
    store: StoreDep,
    panel: PanelDep,
    proposals: ProposalsDep,
    evaluator: EvaluatorDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> AuditPage:
    """On a blind panel, an evaluator other than the lead reads the events without the names it hides."""
    items, total = await asyncio.to_thread(store.events, review_id, limit, offset)
    if total == 0:  # no events under the id as given: a unique prefix of a review's id (404 for neither)
        review_id = await asyncio.to_thread(resolve_review_id, store, review_id)
        items, total = await asyncio.to_thread(store.events, review_id, limit, offset)
    job = await asyncio.to_thread(store.get, review_id)
    if job is not None and not evaluator.lead and await asyncio.to_thread(store.in_blind_batch, job.id):
        seen = await asyncio.to_thread(
            review_as_seen_by, store, panel, job, evaluator.name, lead=False, pages=proposals
        )
        visible = events_visible_to(items, await asyncio.to_thread(panel_of, store, job.id), evaluator.name)
        items = [blinded_event(job, e, seen.text) for e in visible]  # e.g. review_created's file name, quotes
    return AuditPage(items=items, total=total, limit=limit, offset=offset)
