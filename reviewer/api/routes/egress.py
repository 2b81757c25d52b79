"""/v1/reviews/{id}/egress: every request the review's grading sent to a model host (when, provider, host,
model, bytes, the SHA-256 of the body; never the content)."""

import asyncio

from fastapi import APIRouter

from reviewer.api.deps import StoreDep
from reviewer.api.schemas import error_responses
from reviewer.egress import EgressLogView
from reviewer.queue.egress import egress_log

router = APIRouter(prefix="/v1/reviews", tags=["egress"])


@router.get(
    "/{review_id}/egress",
    response_model=EgressLogView,
    responses=error_responses(404, 422),
    summary="The requests the review sent off this machine, oldest first: host, model, bytes, SHA-256",
)
async def review_egress(review_id: str, store: StoreDep) -> EgressLogView:
    return await asyncio.to_thread(egress_log, store, review_id)
