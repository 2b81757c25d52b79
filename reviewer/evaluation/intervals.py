"""How far a measured accuracy can be trusted: percentile bootstrap intervals over documents.

Labels of one document are not independent (one vendor writes all nine answers, one contract states
all seventeen clauses), so the resampling unit is the document, not the label: a set of six proposals
says much less than its 54 labels suggest. The seed is fixed, so the same predictions give the same
interval every time.
"""

import random
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, Field

from reviewer.evaluation.metrics import Prediction, grade_scores
from reviewer.review import Grade

RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 0


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
        predicted = p.predicted_grade.value if p.predicted_grade else "error"
        by_document.setdefault(p.document_id, Counter())[(p.gold_grade.value, predicted)] += 1
    return by_document


def _percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, max(0, round(share * (len(sorted_values) - 1))))]


def bootstrap_intervals(
    predictions: Sequence[Prediction],
    grades: Sequence[Grade],
    *,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> Intervals | None:
    """Intervals for accuracy and macro-F1; None when there is nothing to resample."""
    documents = list(_pairs(predictions).values())
    if not documents:
        return None
    rng = random.Random(seed)
    accuracies, macro_f1s = [], []
    for _ in range(resamples):
        pairs: Counter[tuple[str, str]] = Counter()
        for document in rng.choices(documents, k=len(documents)):
            pairs.update(document)
        total = sum(pairs.values())
        accuracies.append(sum(n for (gold, predicted), n in pairs.items() if gold == predicted) / total)
        scores = grade_scores(pairs, grades)
        macro_f1s.append(sum(s.f1 for s in scores.values()) / len(scores) if scores else 0.0)
    tail = (1 - confidence) / 2

    def interval(values: list[float]) -> Interval:
        values.sort()
        return Interval(low=round(_percentile(values, tail), 4), high=round(_percentile(values, 1 - tail), 4))

    return Intervals(
        accuracy=interval(accuracies),
        macro_f1=interval(macro_f1s),
        confidence=confidence,
        resamples=resamples,
        documents=len(documents),
    )
