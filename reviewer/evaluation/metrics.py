"""Metrics over predictions: pure functions, checked in tests on hand-made cases."""

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, Field

from reviewer.evaluation.datasets import EvidenceSpan
from reviewer.review import Grade


class PredictedQuote(BaseModel):
    page: int
    quote: str
    verified: bool
    start: int | None = None
    end: int | None = None


class Prediction(BaseModel):
    """One document x criterion: what the backend said beside what the gold label says."""

    document_id: str
    criterion_id: str
    predicted_grade: Grade | None = Field(description="None when the backend failed on this criterion.")
    gold_grade: Grade
    quotes: list[PredictedQuote] = Field(default_factory=list, description="In the backend's rank order.")
    gold_evidence: list[EvidenceSpan] = Field(default_factory=list)
    error: str | None = None


class GradeScores(BaseModel):
    precision: float
    recall: float
    f1: float
    support: int


class CriterionScores(BaseModel):
    labels: int
    accuracy: float
    evidence_recall: float | None = Field(description="As for the whole set, over this criterion's labels.")


class Metrics(BaseModel):
    labels: int
    errors: int
    accuracy: float
    macro_f1: float
    per_grade: dict[str, GradeScores]
    confusion: dict[str, dict[str, int]] = Field(description="gold grade -> predicted grade -> count")
    evidence_recall: float | None = Field(
        description="Share of gold-evidenced labels where some verified citation overlaps the gold evidence."
    )
    evidence_recall_at: dict[int, float | None] = Field(default_factory=dict)
    citation_validity: float | None = Field(description="Share of cited quotes that verified.")
    per_criterion: dict[str, CriterionScores] = Field(
        default_factory=dict, description="criterion id -> accuracy and evidence recall on its labels"
    )


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def overlaps(quote: PredictedQuote, span: EvidenceSpan) -> bool:
    return (
        quote.verified
        and quote.start is not None
        and quote.end is not None
        and quote.page == span.page
        and quote.start < span.end
        and span.start < quote.end
    )


def evidence_recall(predictions: Sequence[Prediction], k: int | None = None) -> float | None:
    evidenced = [p for p in predictions if p.gold_evidence and p.gold_grade is not Grade.MISSING]
    if not evidenced:
        return None
    hits = sum(any(overlaps(q, span) for q in p.quotes[:k] for span in p.gold_evidence) for p in evidenced)
    return hits / len(evidenced)


def grade_pair(prediction: Prediction) -> tuple[str, str]:
    """(gold grade, predicted grade) of one label; a failed criterion is predicted 'error'."""
    predicted = prediction.predicted_grade.value if prediction.predicted_grade else "error"
    return prediction.gold_grade.value, predicted


def grade_scores(pairs: Counter[tuple[str, str]], grades: Sequence[Grade]) -> dict[str, GradeScores]:
    """Precision, recall and F1 of each grade, from counts of (gold grade, predicted grade)."""
    scores = {}
    for grade in grades:
        g = grade.value
        true_positive = pairs.get((g, g), 0)
        predicted = sum(c for (_, p), c in pairs.items() if p == g)
        support = sum(c for (gold, _), c in pairs.items() if gold == g)
        precision, recall = _ratio(true_positive, predicted), _ratio(true_positive, support)
        scores[g] = GradeScores(
            precision=round(precision, 4),
            recall=round(recall, 4),
            f1=round(_ratio(2 * precision * recall, precision + recall), 4),
            support=support,
        )
    return scores


def compute_metrics(predictions: Sequence[Prediction], grades: Sequence[Grade], ks: Sequence[int] = (1, 3)) -> Metrics:
    """Accuracy over all labels (a failed criterion counts as wrong); per-grade scores and macro-F1
    over the rubric's grades."""
    confusion: dict[str, dict[str, int]] = {g.value: {} for g in grades}
    pairs = Counter(grade_pair(p) for p in predictions)
    for (gold, predicted), count in sorted(pairs.items()):
        confusion.setdefault(gold, {})[predicted] = count

    per_grade = grade_scores(pairs, grades)
    correct = sum(1 for p in predictions if p.predicted_grade is p.gold_grade)
    quotes = [q for p in predictions for q in p.quotes]
    recall = evidence_recall(predictions)
    return Metrics(
        labels=len(predictions),
        errors=sum(1 for p in predictions if p.predicted_grade is None),
        accuracy=round(_ratio(correct, len(predictions)), 4),
        macro_f1=round(sum(s.f1 for s in per_grade.values()) / len(per_grade), 4) if per_grade else 0.0,
        per_grade=per_grade,
        confusion=confusion,
        evidence_recall=round(recall, 4) if recall is not None else None,
        evidence_recall_at={
            k: (round(r, 4) if (r := evidence_recall(predictions, k)) is not None else None) for k in ks
        },
        citation_validity=round(_ratio(sum(q.verified for q in quotes), len(quotes)), 4) if quotes else None,
        per_criterion=_per_criterion(predictions),
    )


def _per_criterion(predictions: Sequence[Prediction]) -> dict[str, CriterionScores]:
    by_criterion: dict[str, list[Prediction]] = {}
    for p in predictions:
        by_criterion.setdefault(p.criterion_id, []).append(p)
    scores = {}
    for criterion_id, items in sorted(by_criterion.items()):
        recall = evidence_recall(items)
        scores[criterion_id] = CriterionScores(
            labels=len(items),
            accuracy=round(_ratio(sum(p.predicted_grade is p.gold_grade for p in items), len(items)), 4),
            evidence_recall=None if recall is None else round(recall, 4),
        )
    return scores
