"""Running a backend over a labelled set: one review per document through the normal pipeline, so
what is measured is exactly what users get (verification and evidence policy included)."""

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from reviewer.evaluation.datasets import LabelledDocument, LabelledSet
from reviewer.evaluation.intervals import Intervals, bootstrap_intervals
from reviewer.evaluation.metrics import Metrics, PredictedQuote, Prediction, compute_metrics
from reviewer.grading.base import GradingBackend
from reviewer.masking import MaskingPolicy
from reviewer.pipeline import assemble_review, masked_input, review_document
from reviewer.progress import Progress
from reviewer.review import Review, Usage

if TYPE_CHECKING:
    from reviewer.grading.anthropic_backend import AnthropicBackend


class EvalReport(BaseModel):
    dataset: str
    backend: str
    offline: bool
    model: str | None
    prompt_version: str | None
    rubric_id: str
    rubric_version: str
    run_at: datetime
    documents: int
    seconds: float
    metrics: Metrics
    intervals: Intervals | None = Field(
        description="95% bootstrap intervals of accuracy and macro-F1, resampling whole documents."
    )
    blind: bool = Field(default=False, description="Run with blind model input (reviewer eval --blind).")
    usage: Usage
    tokens_per_document: float
    cost_per_document_usd: float
    gold_quotes_not_found: list[str] = Field(
        default_factory=list,
        description="'document: criterion: quote' for each gold quote absent from our page text (no evidence).",
    )


def predictions_for(item: LabelledDocument, review: Review) -> list[Prediction]:
    findings = {f.criterion_id: f for f in review.findings}
    predictions = []
    for label in item.labels:
        finding = findings[label.criterion_id]
        predictions.append(
            Prediction(
                document_id=item.document_id,
                criterion_id=label.criterion_id,
                predicted_grade=finding.grade,
                gold_grade=label.grade,
                quotes=[
                    PredictedQuote(page=c.page, quote=c.quote, verified=c.verified, start=c.start, end=c.end)
                    for c in finding.citations
                ],
                gold_evidence=label.evidence,
                error=finding.error,
            )
        )
    return predictions


async def _run(
    items: Iterator[LabelledDocument],
    labelled: LabelledSet,
    backend: GradingBackend,
    concurrency: int,
    progress: Progress,
    masking: MaskingPolicy | None = None,
) -> tuple[list[Prediction], list[Review], list[str]]:
    limit = asyncio.Semaphore(concurrency)
    predictions: list[Prediction] = []
    reviews: list[Review] = []
    not_found: list[str] = []
    usage = Usage()

    async def one(item: LabelledDocument) -> None:
        nonlocal usage
        async with limit:
            policy = (masking or MaskingPolicy()).with_vendor(item.vendor)
            review = await review_document(item.document, labelled.rubric, backend, masking=policy)
        predictions.extend(predictions_for(item, review))
        not_found.extend(_not_found(item))
        reviews.append(review.model_copy(update={"findings": [], "warnings": []}))
        usage += review.usage
        progress.advance(
            failed=bool(review.error_count), extra=f"${usage.estimated_cost_usd:.2f}" if usage.calls else ""
        )

    pending: set[asyncio.Task] = set()
    for item in items:  # documents are read lazily; at most 2 x concurrency are held at once
        pending.add(asyncio.create_task(one(item)))
        if len(pending) >= 2 * concurrency:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a document that cannot be reviewed stops the run; it never just drops out
    if pending:
        await asyncio.gather(*pending)
    return predictions, reviews, sorted(not_found)


def _report(
    labelled: LabelledSet,
    backend: GradingBackend,
    predictions: list[Prediction],
    reviews: list[Review],
    not_found: list[str],
    started: float,
    blind: bool = False,
) -> EvalReport:
    predictions.sort(key=lambda p: (p.document_id, p.criterion_id))
    usage = sum((r.usage for r in reviews), Usage())
    first = reviews[0] if reviews else None
    billed_tokens = (
        usage.input_tokens + usage.output_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    )
    return EvalReport(
        dataset=labelled.name,
        backend=backend.name,
        offline=backend.offline,
        model=first.model if first else None,
        prompt_version=first.prompt_version if first else None,
        rubric_id=labelled.rubric.id,
        rubric_version=labelled.rubric.version,
        run_at=datetime.now(UTC),
        documents=len(reviews),
        seconds=round(time.perf_counter() - started, 2),
        blind=blind,
        metrics=compute_metrics(predictions, labelled.rubric.grades),
        intervals=bootstrap_intervals(predictions, labelled.rubric.grades),
        usage=usage,
        tokens_per_document=round(billed_tokens / max(len(reviews), 1), 1),
        cost_per_document_usd=round(usage.estimated_cost_usd / max(len(reviews), 1), 6),
        gold_quotes_not_found=not_found,
    )


def _not_found(item: LabelledDocument) -> list[str]:
    return [f"{item.document_id}: {g.criterion_id}: {q}" for g in item.labels for q in g.quotes_not_found]


def evaluate(
    labelled: LabelledSet,
    backend: GradingBackend,
    *,
    limit: int | None = None,
    concurrency: int = 4,
    show_progress: bool = True,
    masking: MaskingPolicy | None = None,
) -> tuple[EvalReport, list[Prediction]]:
    count = min(labelled.size, limit) if limit else labelled.size
    progress = Progress(count, f"eval {labelled.name}", enabled=show_progress)
    started = time.perf_counter()
    predictions, reviews, not_found = asyncio.run(
        _run(islice(labelled.documents(), count), labelled, backend, concurrency, progress, masking)
    )
    blind = bool(masking and masking.blind) or labelled.rubric.blind
    return _report(labelled, backend, predictions, reviews, not_found, started, blind), predictions


def evaluate_in_batch(
    labelled: LabelledSet,
    backend: "AnthropicBackend",
    state_dir: Path,
    *,
    limit: int | None = None,
    show_progress: bool = True,
    masking: MaskingPolicy | None = None,
) -> tuple[EvalReport, list[Prediction]]:
    """The same measurement through one Message Batch (half price, results within a day). The batch id
    is kept in state_dir under a key of the documents, rubric and model, so a run that is interrupted
    picks the same batch up again instead of paying for a second one."""
    from reviewer.grading.anthropic_batch import grade_in_batch, prepare

    started = time.perf_counter()
    items = list(islice(labelled.documents(), limit))
    rubric = labelled.rubric
    key = hashlib.sha256(
        json.dumps(
            [labelled.name, rubric.id, rubric.version, backend.model, [i.document.sha256 for i in items]]
            + (["blind"] if masking and masking.blind else [])
        ).encode()
    ).hexdigest()[:16]
    state_file = state_dir / f"eval-{key}.json"
    progress = Progress(1, f"eval {labelled.name} (message batch)", enabled=show_progress)

    sent = {
        item.document_id: masked_input(
            item.document, rubric, backend, (masking or MaskingPolicy()).with_vendor(item.vendor)
        )
        for item in items
    }
    prepared = [
        prepare(backend, item.document_id, (s.document if (s := sent[item.document_id]) else item.document), rubric)
        for item in items
    ]
    gradings = asyncio.run(
        grade_in_batch(
            backend,
            prepared,
            rubric,
            poll_seconds=backend.settings.jobs.batch_poll_seconds,
            on_progress=lambda p: progress.note(p.summary()),
            state_file=state_file,
            state={"dataset": labelled.name},
        )
    )
    predictions: list[Prediction] = []
    reviews: list[Review] = []
    not_found: list[str] = []
    for item in items:
        review = assemble_review(
            item.document,
            rubric,
            gradings[item.document_id],
            backend=backend.name,
            offline=False,
            masked=sent[item.document_id],
        )
        predictions.extend(predictions_for(item, review))
        reviews.append(review.model_copy(update={"findings": [], "warnings": []}))
        not_found.extend(_not_found(item))
    progress.advance()
    state_file.unlink(missing_ok=True)
    blind = bool(masking and masking.blind) or rubric.blind
    return _report(labelled, backend, predictions, reviews, sorted(not_found), started, blind), predictions
