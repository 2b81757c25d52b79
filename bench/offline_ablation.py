"""What each design choice of the offline grader is worth, measured the same way for every variant.

    python -m bench.offline_ablation [PATH-TO-ContractNLI-dev.json]

Each variant changes one thing in the shipped grader (offline/v3). For each, the two thresholds are
chosen on the even-indexed ContractNLI dev documents exactly as bench/offline_calibration.py does
(the setting that clears the three goals by the widest margin), then reported on the
odd-indexed documents, on the project's six development samples and on the held-out samples in
samples/heldout (with the default presence threshold and the margin chosen on ContractNLI: the
samples set no threshold). The held-out column is reported, never used to choose a variant.
Variants tried and not shipped stay here so that the evidence behind the choice can be re-run.
"""

import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.offline_calibration import DEFAULT_PATH, MARGIN_GRID, PRESENT_GRID, goal_margin, graded_metrics
from reviewer.evaluation.datasets import GoldLabel, LabelledSet, load_contractnli, load_samples
from reviewer.evaluation.metrics import Metrics
from reviewer.grading.offline import DEFAULT_PRESENT_THRESHOLD, MET_KEY_TERMS, CriterionQuery, index_document
from reviewer.passages import Passage
from reviewer.retrieval import BM25Index, tokenize
from reviewer.review import Grade
from reviewer.rubric import Criterion, Rubric
from samples.build_samples import HELDOUT_DIR

NEGATION = re.compile(
    r"\b(?:not|no|never|none|nor|without|cannot|can't|don't|doesn't|won't|isn't|aren't|exclud\w*|outside)\b",
    re.IGNORECASE,
)
CLAUSE = re.compile(r"[;,:]|\bbut\b|\bwhile\b|\bexcept\b", re.IGNORECASE)
SPECIFIC = re.compile(
    r"\d|\b(?:will|shall|must|commit(?:s|ted)?|guarantee[sd]?|includ(?:e|es|ed|ing)|provide[sd]?|deliver(?:s|ed)?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Measured:
    """One criterion of one document, as a variant sees it; grades follow from two thresholds."""

    relevance: float
    lead: float
    evidence: list[Passage]
    full_answer: bool


Variant = Callable[[Criterion, list[Passage], BM25Index], Measured]


def _negated_terms(text: str) -> set[str]:
    return {t for clause in CLAUSE.split(text) if NEGATION.search(clause) for t in tokenize(clause)}


def make_variant(
    *,
    whole_guidance: bool = False,
    negated_met_cues_flip: bool = False,
    negated_red_flag_cues_flip: bool = False,
    require_specific: bool = False,
    lead_per_passage: bool = False,
    red_flag_candidate: bool = False,
    presence: str = "top passage",
) -> Variant:
    def measure(criterion: Criterion, passages: list[Passage], index: BM25Index) -> Measured:
        query = CriterionQuery(criterion)
        hits = index.search(query.terms, top_k=3)
        if not hits:
            return Measured(0.0, 0.0, [], False)
        red_flag, met = query.red_flag_cues, query.met_cues
        if whole_guidance:
            red_flag = Counter(tokenize(criterion.guidance.red_flag, keep_stopwords=True))
            met = Counter(tokenize(criterion.guidance.met, keep_stopwords=True))
        flip = negated_met_cues_flip and not NEGATION.search(criterion.guidance.met)
        red_flip = negated_red_flag_cues_flip and not NEGATION.search(criterion.guidance.red_flag)
        candidates = [h.index for h in hits]
        if red_flag_candidate:  # the passage that best matches the red-flag cues, if it is on topic at all
            best_red = index.search(red_flag, top_k=1)
            if best_red and best_red[0].index not in candidates and index.score(query.terms, best_red[0].index):
                candidates.append(best_red[0].index)
        red_scores, met_scores = [], []
        for candidate in candidates:
            negated = _negated_terms(passages[candidate].text) if flip or red_flip else set()
            met_negated = negated if flip else set()
            red_negated = negated if red_flip else set()
            met_here = Counter({t: w for t, w in met.items() if t not in met_negated}) + Counter(
                {t: w for t, w in red_flag.items() if t in red_negated}
            )
            red_here = Counter({t: w for t, w in red_flag.items() if t not in red_negated}) + Counter(
                {t: w for t, w in met.items() if t in met_negated}
            )
            red_scores.append(index.score(red_here, candidate))
            met_scores.append(index.score(met_here, candidate))
        evidence = [passages[h.index] for h in hits]
        covered = set().union(*(set(tokenize(p.text)) for p in evidence)) & query.key_terms
        full = len(covered) >= MET_KEY_TERMS and (
            not require_specific or any(SPECIFIC.search(p.text) for p in evidence)
        )
        if lead_per_passage:  # a red flag outweighs met statements in other passages
            lead = max(r - m for r, m in zip(red_scores, met_scores, strict=True))
        else:
            lead = max(red_scores) - max(met_scores)
        if presence == "keywords":
            keywords = Counter(tokenize(" ".join(criterion.keywords)))
            relevance = max(index.score(keywords, h.index) for h in hits) / (sum(keywords.values()) or 1)
        elif presence == "key-term coverage":
            relevance = 3 * max(len(set(tokenize(p.text)) & query.key_terms) for p in evidence) / len(query.key_terms)
        else:
            relevance = hits[0].score / query.weight
        return Measured(relevance, lead, evidence, full)

    return measure


VARIANTS: dict[str, tuple[Variant, bool]] = {
    "offline/v3 (shipped)": (make_variant(), False),
    "headings kept as evidence": (make_variant(), True),
    "whole guidance texts for the red flag (v2)": (make_variant(whole_guidance=True), False),
    "negated met cues count for the red flag": (make_variant(negated_met_cues_flip=True), False),
    "negated red-flag cues count for met": (make_variant(negated_red_flag_cues_flip=True), False),
    "negation both ways": (make_variant(negated_met_cues_flip=True, negated_red_flag_cues_flip=True), False),
    "'specific commitment' required for met": (make_variant(require_specific=True), False),
    "red-flag lead judged within each passage": (make_variant(lead_per_passage=True), False),
    "best red-flag-cue passage also judged": (make_variant(red_flag_candidate=True), False),
    "presence from the keywords alone": (make_variant(presence="keywords"), False),
    "presence from key-term coverage": (make_variant(presence="key-term coverage"), False),
}


def grade(m: Measured, rubric: Rubric, present: float, margin: float) -> Grade:
    if m.relevance < present:
        return Grade.MISSING
    if rubric.allows(Grade.RED_FLAG) and m.lead >= margin:
        return Grade.RED_FLAG
    if rubric.allows(Grade.PARTIAL) and not m.full_answer:
        return Grade.PARTIAL
    return Grade.MET


SAMPLES_PRESENT_GRID = [round(0.05 * i, 2) for i in range(11)]

Row = tuple[int, str, str, GoldLabel, Measured]


def measure_set(labelled: LabelledSet, variant: Variant, headings: bool) -> list[Row]:
    rows = []
    for number, item in enumerate(labelled.documents()):
        passages, index = index_document(item.document, headings=headings)
        for label in item.labels:
            criterion = labelled.rubric.criterion(label.criterion_id)
            rows.append((number, item.document_id, label.criterion_id, label, variant(criterion, passages, index)))
    return rows


def score(rows: list[Row], rubric: Rubric, present: float, margin: float) -> Metrics:
    graded = [(d, c, label, grade(m, rubric, present, margin), m.evidence) for _, d, c, label, m in rows]
    return graded_metrics(graded, rubric)


def calibrate(rows: list[Row], rubric: Rubric) -> tuple[float, float]:
    scored = {(p, m): score(rows, rubric, p, m) for p in PRESENT_GRID for m in MARGIN_GRID}
    return max(scored, key=lambda pm: goal_margin(scored[pm]))


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    contractnli, samples, held_out_samples = load_contractnli(path), load_samples(), load_samples(HELDOUT_DIR)
    print(
        f"{'variant':44} {'thresholds':>11}  {'ContractNLI odd: acc  mF1  ev@3':>32}  {'samples: acc  mF1':>18}"
        f"  {'held-out: acc  mF1':>18}"
    )
    for name, (variant, headings) in VARIANTS.items():
        rows = measure_set(contractnli, variant, headings)
        present, margin = calibrate([r for r in rows if r[0] % 2 == 0], contractnli.rubric)
        held_out = score([r for r in rows if r[0] % 2 == 1], contractnli.rubric, present, margin)
        on_samples, on_held_out_samples = (
            score(measure_set(s, variant, headings), s.rubric, DEFAULT_PRESENT_THRESHOLD, margin)
            for s in (samples, held_out_samples)
        )
        print(
            f"{name:44} {present:>5} {margin:>5}  {held_out.accuracy:>21.3f} {held_out.macro_f1:.3f} "
            f"{held_out.evidence_recall_at[3]:.3f}  {on_samples.accuracy:>13.3f} {on_samples.macro_f1:.3f}"
            f"  {on_held_out_samples.accuracy:>13.3f} {on_held_out_samples.macro_f1:.3f}"
        )
    shipped = VARIANTS["offline/v3 (shipped)"][0]
    margin = calibrate([r for r in measure_set(contractnli, shipped, False) if r[0] % 2 == 0], contractnli.rubric)[1]
    never_missing = [
        score(measure_set(s, shipped, False), s.rubric, 0.0, margin).accuracy for s in (samples, held_out_samples)
    ]
    print(
        f"\noffline/v3 with a presence threshold of 0 (never 'missing' while a passage matches): samples "
        f"{never_missing[0]:.3f}, held-out {never_missing[1]:.3f} (not a choice: it would be made on the samples)"
    )
    rows = measure_set(samples, shipped, False)
    grid = [(p, m) for p in SAMPLES_PRESENT_GRID for m in MARGIN_GRID]
    best = max(grid, key=lambda pm: score(rows, samples.rubric, *pm).accuracy)
    print(
        f"ceiling: offline/v3 with thresholds chosen on the samples themselves {best}: accuracy "
        f"{score(rows, samples.rubric, *best).accuracy:.3f} (an upper bound of threshold choice, not a result)"
    )


if __name__ == "__main__":
    main()
