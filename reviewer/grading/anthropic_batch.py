"""Grading many documents through one Anthropic Message Batch (half the price of direct calls).

Every group request of every document is submitted at once under a `custom_id`; the batch is polled
until it ends; results are mapped back by `custom_id`; any request that errored, expired, was
canceled or answered invalidly is sent again through the normal path (direct calls with retries),
so a batch never loses a criterion. Documents are kept only as requests, not as text."""

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path

import anthropic
from pydantic import BaseModel

from reviewer.documents import Document
from reviewer.egress import narrowed_to
from reviewer.errors import ConfigurationError, ReviewerError
from reviewer.grading.anthropic_backend import (
    AnthropicBackend,
    GroupOutcome,
    GroupRequest,
    InvalidAnswer,
    upstream_failure,
    usage_of,
    validate_answer,
)
from reviewer.grading.base import RawGrading
from reviewer.notices import ReviewWarning
from reviewer.redact import redact, secrets_of
from reviewer.rubric import Rubric

log = logging.getLogger(__name__)

BATCH_DISCOUNT = 0.5


class BatchProgress(BaseModel):
    batch_id: str
    status: str
    processing: int
    succeeded: int
    errored: int
    canceled: int
    expired: int

    def summary(self) -> str:
        return (
            f"batch {self.status}: {self.succeeded} succeeded, {self.errored} errored, "
            f"{self.expired} expired, {self.processing} processing"
        )


class PreparedDocument(BaseModel):
    key: str
    requests: list[GroupRequest]
    warnings: list[ReviewWarning]


def prepare(backend: AnthropicBackend, key: str, document: Document, rubric: Rubric) -> PreparedDocument:
    requests, warnings = backend.build_requests(document, rubric)
    return PreparedDocument(key=key, requests=requests, warnings=warnings)


def custom_id(document_index: int, group_index: int) -> str:
    return f"d{document_index}-g{group_index}"


async def grade_in_batch(
    backend: AnthropicBackend,
    prepared: list[PreparedDocument],
    rubric: Rubric,
    *,
    poll_seconds: float = 30.0,
    on_progress: Callable[[BatchProgress], None] | None = None,
    state_file: Path | None = None,
    state: dict | None = None,
) -> dict[str, RawGrading]:
    """`_grade_in_batch`, with an error of the Message Batches API told in our words and the status code
    (the upstream's text, which a gateway may fill with the request, is only logged, redacted)."""
    try:
        return await _grade_in_batch(
            backend,
            prepared,
            rubric,
            poll_seconds=poll_seconds,
            on_progress=on_progress,
            state_file=state_file,
            state=state,
        )
    except anthropic.AuthenticationError:
        raise ConfigurationError(
            "the Anthropic API rejected the API key: check ANTHROPIC_API_KEY", code="bad_api_key"
        ) from None
    except anthropic.APIStatusError as exc:
        log.warning(
            "message batch: Anthropic API error %d: %s",
            exc.status_code,
            redact(str(exc.message), secrets_of(backend.settings)),
        )
        raise ReviewerError(f"the message batch failed: {upstream_failure(exc)}", code="upstream_error") from None


async def _grade_in_batch(
    backend: AnthropicBackend,
    prepared: list[PreparedDocument],
    rubric: Rubric,
    *,
    poll_seconds: float = 30.0,
    on_progress: Callable[[BatchProgress], None] | None = None,
    state_file: Path | None = None,
    state: dict | None = None,
) -> dict[str, RawGrading]:
    """key -> RawGrading for every prepared document. With a state_file, the batch id (and `state`) is
    saved there once submitted, and a batch already saved there is picked up instead of submitting
    another, so an interrupted run never pays twice. The caller removes the file once the results are
    safe."""
    client = backend.client
    index = {custom_id(d, g): (d, g) for d, doc in enumerate(prepared) for g in range(len(doc.requests))}
    if state_file and state_file.exists():
        batch = await client.messages.batches.retrieve(json.loads(state_file.read_text())["batch_id"])
    else:
        batch = await client.messages.batches.create(
            requests=[{"custom_id": cid, "params": prepared[d].requests[g].body} for cid, (d, g) in index.items()]
        )
        if state_file:
            state_file.parent.mkdir(parents=True, exist_ok=True)
            state_file.write_text(json.dumps({"batch_id": batch.id, **(state or {})}))
    log.info("message batch %s: %d requests", batch.id, len(index))
    while True:
        if on_progress:
            counts = batch.request_counts
            on_progress(
                BatchProgress(
                    batch_id=batch.id,
                    status=batch.processing_status,
                    processing=counts.processing,
                    succeeded=counts.succeeded,
                    errored=counts.errored,
                    canceled=counts.canceled,
                    expired=counts.expired,
                )
            )
        if batch.processing_status == "ended":
            break
        await asyncio.sleep(poll_seconds)
        batch = await client.messages.batches.retrieve(batch.id)

    outcomes: dict[str, GroupOutcome] = {}
    async for entry in await client.messages.batches.results(batch.id):
        if entry.custom_id not in index:
            continue
        d, g = index[entry.custom_id]
        result = entry.result
        if result.type != "succeeded":
            log.info("batch request %s %s; sending it again directly", entry.custom_id, result.type)
            continue
        usage = usage_of(result.message)
        try:
            answer = validate_answer(result.message, prepared[d].requests[g].criterion_ids, rubric.grades)
        except InvalidAnswer as exc:
            log.info("batch request %s answered invalidly (%s); sending it again directly", entry.custom_id, exc)
            outcomes[entry.custom_id] = GroupOutcome(usage=usage, failure=str(exc))
            continue
        outcomes[entry.custom_id] = GroupOutcome(answer=answer, usage=usage)

    retry_ids = [cid for cid in index if cid not in outcomes or outcomes[cid].answer is None]
    limit = asyncio.Semaphore(backend.settings.grading.concurrency)

    async def again(cid: str) -> None:
        d, g = index[cid]
        async with limit:
            with narrowed_to(prepared[d].key):  # a direct call carries this document alone
                direct = await backend.run_request(prepared[d].requests[g], rubric.grades)
        if cid in outcomes:  # an invalid batch answer was paid for too; priced with the direct call (conservative)
            direct = direct.model_copy(update={"usage": direct.usage + outcomes[cid].usage})
        outcomes[cid] = direct

    await asyncio.gather(*(again(cid) for cid in retry_ids))
    resent_ids = set(retry_ids)

    gradings = {}
    for d, doc in enumerate(prepared):
        ids = [custom_id(d, g) for g in range(len(doc.requests))]
        warnings = list(doc.warnings)
        resent = [cid for cid in ids if cid in resent_ids]
        if resent:
            warnings.append(
                ReviewWarning(
                    code="batch_retried",
                    message=f"{len(resent)} of {len(ids)} requests did not complete in the message batch "
                    "and were sent again directly",
                )
            )
        discounts = [1.0 if cid in resent_ids else BATCH_DISCOUNT for cid in ids]
        gradings[doc.key] = backend.merge(doc.requests, [outcomes[cid] for cid in ids], warnings, discounts=discounts)
    return gradings
