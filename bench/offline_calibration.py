"""Calibrating and measuring the offline grader on ContractNLI dev.

    python -m bench.offline_calibration [PATH-TO-dev.json]

1. Retrieval: how often a gold evidence span is among the top 1 / 3 / 5 passages, over entailed or
   contradicted pairs, for the raw hypothesis as query (the baseline the issue quotes) and for the
   grader's query built from the rubric (description, met guidance, keywords).
2. Calibration: the two thresholds of the offline grader (presence, red-flag margin) are chosen on
   the even-indexed documents and reported on the odd-indexed ones, which played no part in
   choosing them. The choice is the setting that clears the issue's three goals (accuracy 0.65,
   macro-F1 0.55, end-to-end evidence recall@3 0.80) by the widest margin: the largest smallest
   margin. Evidence recall pulls the presence threshold down (a finding graded `missing` cites
   nothing), accuracy pulls it up. The chosen values belong in the rubric's `offline:` block.
"""

import sys
from collections import Counter
from pathlib import Path

from reviewer.evaluation.datasets import GoldLabel, load_contractnli
from reviewer.evaluation.metrics import Metrics, PredictedQuote, Prediction, compute_metrics
from reviewer.grading.offline import Assessment, CriterionQuery, assess, decide, index_document
from reviewer.passages import Passage
from reviewer.retrieval import tokenize
from reviewer.review import Grade
from reviewer.rubric import Rubric

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared/data/contractnli/dev.json"
PRESENT_GRID = [round(0.30 + 0.02 * i, 2) for i in range(21)]
MARGIN_GRID = [round(0.1 * i, 1) for i in range(51)]
GOALS = {"accuracy": 0.65, "macro-F1": 0.55, "evidence recall@3": 0.80}


def goal_margin(m: Metrics) -> float:
    """How far the weakest of the three goals is cleared (negative: missed)."""
    achieved = {"accuracy": m.accuracy, "macro-F1": m.macro_f1, "evidence recall@3": m.evidence_recall_at[3]}
    return min(achieved[name] - goal for name, goal in GOALS.items())


def graded_metrics(graded: list[tuple[str, str, GoldLabel, Grade, list[Passage]]], rubric: Rubric) -> Metrics:
    """Metrics of (document id, criterion id, gold label, grade, evidence passages) rows, citing the
    evidence unless the grade is `missing`, exactly as the offline grader does."""
    predictions = []
    for document_id, criterion_id, label, grade, evidence in graded:
        cited = [] if grade is Grade.MISSING else evidence
        quotes = [PredictedQuote(page=p.page, quote=p.text, verified=True, start=p.start, end=p.end) for p in cited]
        predictions.append(
            Prediction(
                document_id=document_id,
                criterion_id=criterion_id,
                gold_grade=label.grade,
                predicted_grade=grade,
                quotes=quotes,
                gold_evidence=label.evidence,
            )
        )
    return compute_metrics(predictions, rubric.grades, ks=(3,))


def overlaps(passage, spans) -> bool:
    return any(s.page == passage.page and passage.start < s.end and s.start < passage.end for s in spans)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    labelled = load_contractnli(path)
    rubric = labelled.rubric
    rows: list[tuple[int, str, str, GoldLabel, Assessment]] = []
    recall = {"hypothesis": Counter(), "rubric query": Counter()}
    evidenced = 0
    for number, item in enumerate(labelled.documents()):
        passages, index = index_document(item.document, headings=False)
        for label in item.labels:
            criterion = rubric.criterion(label.criterion_id)
            rows.append((number, item.document_id, label.criterion_id, label, assess(criterion, passages, index)))
            if label.grade is Grade.MISSING or not label.evidence:
                continue
            evidenced += 1
            queries = {
                "hypothesis": Counter(tokenize(criterion.description)),
                "rubric query": CriterionQuery(criterion).terms,
            }
            for name, query in queries.items():
                ranked = [passages[h.index] for h in index.search(query, top_k=5)]
                for k in (1, 3, 5):
                    recall[name][k] += any(overlaps(p, label.evidence) for p in ranked[:k])

    print(f"retrieval recall over {evidenced} entailed/contradicted pairs with located gold evidence")
    for name, counts in recall.items():
        print(f"  {name:13} " + "  ".join(f"@{k} {counts[k] / evidenced:.3f}" for k in (1, 3, 5)))

    def metrics(subset, present, margin):
        graded = [(d, c, label, decide(a, rubric, present, margin), a.evidence) for _, d, c, label, a in subset]
        return graded_metrics(graded, rubric)

    tune = [r for r in rows if r[0] % 2 == 0]
    held_out = [r for r in rows if r[0] % 2 == 1]
    scored = {(p, m): metrics(tune, p, m) for p in PRESENT_GRID for m in MARGIN_GRID}
    best = max(scored, key=lambda pm: goal_margin(scored[pm]))
    print(f"\nchosen on even documents: present_threshold {best[0]}, red_flag_margin {best[1]}")
    for name, subset in (("even (tuning)", tune), ("odd (held out)", held_out), ("all", rows)):
        m = metrics(subset, *best)
        print(
            f"  {name:15} accuracy {m.accuracy:.3f}  macro-F1 {m.macro_f1:.3f}  "
            f"evidence recall@3 {m.evidence_recall_at[3]:.3f}  labels {m.labels}"
        )
    always = [
        Prediction(document_id=d, criterion_id=c, gold_grade=label.grade, predicted_grade=Grade.MET)
        for _, d, c, label, _ in rows
    ]
    print(f"  always 'met' (Entailment) on all: accuracy {compute_metrics(always, rubric.grades).accuracy:.3f}")


if __name__ == "__main__":
    main()
