"""How far a measured accuracy can be trusted: percentile bootstrap intervals over documents.

Labels of one document are not independent (one vendor writes all nine answers, one contract states
all seventeen clauses), so the resampling unit is the document, not the label: a set of six proposals
says much less than its 54 labels suggest. The seed is fixed, so the same predictions give the same
interval every time.
"""

import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel, Field

from reviewer.evaluation.metrics import Prediction, grade_pair, grade_scores
from reviewer.review import Grade

RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 0

Unit = TypeVar("Unit")


class Interval(BaseModel):
    low: float
    high: float


class Intervals(BaseModel):
    accuracy: Interval
    macro_f1: Interval
    confidence: float = Field(description="Share of the bootstrap distribution between low and high.")
    resamples: int
    documents: int = Field(description="The resampling unit: whole documents, with all their labels.")


def _pairs(predictions: Sequence[Prediction]) -> dict[str, Counter[tuple[str, str]]]:
    by_document: dict[str, Counter[tuple[str, str]]] = {}
    for p in predictions:
        by_document.setdefault(p.document_id, Counter())[grade_pair(p)] += 1
    return by_document


def _percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, max(0, round(share * (len(sorted_values) - 1))))]


def bootstrap(
    units: Sequence[Unit],
    statistics: Callable[[list[Unit]], tuple[float, ...]],
    *,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> list[Interval]:
    """Percentile intervals of each statistic over resamples (with replacement) of the units."""
    rng = random.Random(seed)
    samples = [statistics(rng.choices(units, k=len(units))) for _ in range(resamples)]
    tail = (1 - confidence) / 2
    intervals = []
    for values in zip(*samples, strict=True):
        ordered = sorted(values)
        intervals.append(
            Interval(low=round(_percentile(ordered, tail), 4), high=round(_percentile(ordered, 1 - tail), 4))
        )
    return intervals


def bootstrap_intervals(predictions: Sequence[Prediction], grades: Sequence[Grade]) -> Intervals | None:
    """Intervals for accuracy and macro-F1; None when there is nothing to resample."""
    documents = list(_pairs(predictions).values())
    if not documents:
        return None

    def accuracy_and_macro_f1(sample: list[Counter[tuple[str, str]]]) -> tuple[float, float]:
        pairs: Counter[tuple[str, str]] = Counter()
        for document in sample:
            pairs.update(document)
        accuracy = sum(n for (gold, predicted), n in pairs.items() if gold == predicted) / sum(pairs.values())
        scores = grade_scores(pairs, grades)
        return accuracy, sum(s.f1 for s in scores.values()) / len(scores) if scores else 0.0

    accuracy, macro_f1 = bootstrap(documents, accuracy_and_macro_f1)
    return Intervals(
        accuracy=accuracy, macro_f1=macro_f1, confidence=CONFIDENCE, resamples=RESAMPLES, documents=len(documents)
    )
