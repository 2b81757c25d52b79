"""Comparing two evaluation runs on the same labels (a new prompt, another model, another backend):
which labels one gets right and the other wrong, and whether the difference in accuracy is more
than the noise of a small labelled set. The runs are read from the files `reviewer eval
--predictions` writes, so a run made last month, or by someone else, can be compared without
running it again."""

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from reviewer.errors import BadInputError
from reviewer.evaluation.intervals import CONFIDENCE, RESAMPLES, Interval, bootstrap
from reviewer.evaluation.metrics import Prediction
from reviewer.review import Grade


class PredictionLine(BaseModel):
    """One line of a predictions file: one document x criterion of a run."""

    dataset: str = ""
    document_id: str
    criterion_id: str
    predicted_grade: Grade | None
    gold_grade: Grade
    quotes: list[str] = Field(default_factory=list, description="In the backend's rank order.")
    verified: list[bool] = Field(default_factory=list)
    error: str | None = None
    grader: str | None = Field(
        default=None, description="The backend and model that graded it, e.g. 'openai_compatible llama-4'."
    )

    @classmethod
    def of(cls, prediction: Prediction, dataset: str, grader: str | None = None) -> "PredictionLine":
        return cls(
            dataset=dataset,
            grader=grader,
            document_id=prediction.document_id,
            criterion_id=prediction.criterion_id,
            predicted_grade=prediction.predicted_grade,
            gold_grade=prediction.gold_grade,
            quotes=[q.quote for q in prediction.quotes],
            verified=[q.verified for q in prediction.quotes],
            error=prediction.error,
        )

    @property
    def key(self) -> tuple[str, str, str]:
        return self.dataset, self.document_id, self.criterion_id

    @property
    def correct(self) -> bool:
        return self.predicted_grade is self.gold_grade


def read_predictions(path: Path) -> list[PredictionLine]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read predictions ({type(exc).__name__})", code="bad_predictions") from None
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            lines.append(PredictionLine.model_validate(json.loads(raw)))
        except (json.JSONDecodeError, ValidationError) as exc:
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else "not JSON"
            raise BadInputError(f"{path}:{number}: not a prediction line ({reason})", code="bad_predictions") from None
    if not lines:
        raise BadInputError(f"{path}: no predictions in the file", code="bad_predictions")
    duplicate, times = Counter(line.key for line in lines).most_common(1)[0]
    if times > 1:
        raise BadInputError(f"{path}: {duplicate[1]} / {duplicate[2]} appears more than once", code="bad_predictions")
    return lines


class CriterionChange(BaseModel):
    labels: int
    baseline_accuracy: float
    candidate_accuracy: float
    fixed: int
    broken: int


Outcome = tuple[bool, bool]  # (baseline right, candidate right) on one label


def _accuracies(outcomes: list[Outcome]) -> tuple[float, float]:
    return sum(a for a, _ in outcomes) / len(outcomes), sum(b for _, b in outcomes) / len(outcomes)


def _change(outcomes: list[Outcome]) -> CriterionChange:
    baseline, candidate = _accuracies(outcomes)
    return CriterionChange(
        labels=len(outcomes),
        baseline_accuracy=round(baseline, 4),
        candidate_accuracy=round(candidate, 4),
        fixed=sum(1 for a, b in outcomes if not a and b),
        broken=sum(1 for a, b in outcomes if a and not b),
    )


def graders_of(lines: Sequence[PredictionLine]) -> str | None:
    """Who graded a run ('anthropic claude-sonnet-5-5'; several joined by ' + '); None for older files."""
    names = sorted({line.grader for line in lines if line.grader})
    return " + ".join(names) or None


class RunDiff(BaseModel):
    baseline: str
    candidate: str
    baseline_grader: str | None = Field(default=None, description="The backend and model of the baseline run.")
    candidate_grader: str | None = Field(default=None, description="The backend and model of the candidate run.")
    labels: int = Field(description="Labels both runs graded; only these are compared.")
    documents: int
    only_in_baseline: int
    only_in_candidate: int
    baseline_accuracy: float
    candidate_accuracy: float
    difference: float = Field(description="candidate accuracy - baseline accuracy")
    difference_interval: Interval = Field(description="Paired bootstrap over documents.")
    confidence: float
    resamples: int
    fixed: int = Field(description="Labels the baseline got wrong and the candidate right.")
    broken: int = Field(description="Labels the baseline got right and the candidate wrong.")
    verdict: Literal["better", "worse", "no clear difference"]
    per_criterion: dict[str, CriterionChange]


def diff_runs(
    baseline: Sequence[PredictionLine], candidate: Sequence[PredictionLine], names: tuple[str, str]
) -> RunDiff:
    theirs = {line.key: line for line in candidate}
    pairs = [(line, theirs[line.key]) for line in baseline if line.key in theirs]
    if not pairs:
        raise BadInputError(
            f"{names[0]} and {names[1]} have no document and criterion in common", code="bad_predictions"
        )
    for mine, other in pairs:
        if mine.gold_grade is not other.gold_grade:
            raise BadInputError(
                f"the runs give {mine.document_id} / {mine.criterion_id} different gold grades "
                f"({mine.gold_grade.value}, {other.gold_grade.value}): they were not measured on the same labels",
                code="bad_predictions",
            )
    by_document: dict[tuple[str, str], list[Outcome]] = {}
    by_criterion: dict[str, list[Outcome]] = {}
    for mine, other in pairs:
        outcome = (mine.correct, other.correct)
        by_document.setdefault((mine.dataset, mine.document_id), []).append(outcome)
        by_criterion.setdefault(mine.criterion_id, []).append(outcome)

    def difference(sample: list[list[Outcome]]) -> tuple[float]:
        base, cand = _accuracies([o for document in sample for o in document])
        return (cand - base,)

    outcomes = [o for document in by_document.values() for o in document]
    base_accuracy, candidate_accuracy = _accuracies(outcomes)
    overall = _change(outcomes)
    [interval] = bootstrap(list(by_document.values()), difference)
    verdict = "better" if interval.low > 0 else "worse" if interval.high < 0 else "no clear difference"
    return RunDiff(
        baseline=names[0],
        candidate=names[1],
        baseline_grader=graders_of(baseline),
        candidate_grader=graders_of(candidate),
        labels=len(pairs),
        documents=len(by_document),
        only_in_baseline=len(baseline) - len(pairs),
        only_in_candidate=len(candidate) - len(pairs),
        baseline_accuracy=overall.baseline_accuracy,
        candidate_accuracy=overall.candidate_accuracy,
        difference=round(candidate_accuracy - base_accuracy, 4),
        difference_interval=interval,
        confidence=CONFIDENCE,
        resamples=RESAMPLES,
        fixed=overall.fixed,
        broken=overall.broken,
        verdict=verdict,
        per_criterion={criterion_id: _change(items) for criterion_id, items in sorted(by_criterion.items())},
    )
