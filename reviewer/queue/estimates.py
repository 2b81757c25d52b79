"""What starting a batch would cost, before it starts: nothing for an offline backend; for Claude, the
tokens and dollars of the real requests (reviewer.grading.estimate), each document read by the server's
extractor processes as its review would read it. Nothing is sent."""

from pydantic import BaseModel

from reviewer.documents import read_document_with
from reviewer.errors import ReviewerError
from reviewer.grading.estimate import CostEstimate, empty_estimate, estimate_review
from reviewer.queue.intake import ReviewTarget
from reviewer.queue.runner import JobRunner

CLAUDE_BACKENDS = ("anthropic", "bedrock", "vertex")  # one prompt, priced as Anthropic prices it


class BatchEstimate(BaseModel):
    backend: str
    offline: bool
    estimate: CostEstimate | None = None  # None: offline, or a backend this estimate cannot price
    not_counted: list[str] = []  # "file: why" for a document that could not be read


async def estimate_batch(runner: JobRunner, target: ReviewTarget, files: list[tuple[str, bytes]]) -> BatchEstimate:
    offline = runner.backend_for(target.backend).offline
    if offline or target.backend not in CLAUDE_BACKENDS:
        return BatchEstimate(backend=target.backend, offline=offline)
    settings = runner.settings.model_copy(
        update={"anthropic": runner.settings.anthropic.model_copy(update={"model": target.model})}
    )
    total, not_counted = empty_estimate(settings), []
    for name, data in files:
        try:
            document = await read_document_with(runner.extractor, data, name)
        except ReviewerError as exc:
            not_counted.append(f"{name}: {exc.message}")
            continue
        total += estimate_review(document, target.rubric, settings)
    return BatchEstimate(backend=target.backend, offline=False, estimate=total, not_counted=not_counted)
