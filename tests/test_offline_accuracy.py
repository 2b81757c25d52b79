"""Accuracy gates for the offline grader: a change that makes it worse fails here, not in a user's
hands. The figures are in the README's Accuracy section; these bars sit a little below them."""

import os
from pathlib import Path

import pytest

from reviewer.evaluation.datasets import load_contractnli, load_samples
from reviewer.evaluation.runner import evaluate
from reviewer.grading.offline import OfflineBackend
from reviewer.review import Grade
from samples.build_samples import HELDOUT_DIR

CONTRACTNLI_DEV = Path(
    os.environ.get(
        "REVIEWER_TEST_CONTRACTNLI", Path(__file__).resolve().parents[2] / "shared/data/contractnli/dev.json"
    )
)


def test_offline_grader_on_the_samples_does_not_regress():
    report, _ = evaluate(load_samples(), OfflineBackend(), show_progress=False)
    assert report.metrics.accuracy >= 0.59
    assert report.metrics.evidence_recall_at[3] >= 0.78
    assert report.metrics.citation_validity == 1.0


@pytest.mark.skipif(not CONTRACTNLI_DEV.is_file(), reason="ContractNLI dev split not found (REVIEWER_TEST_CONTRACTNLI)")
def test_offline_grader_meets_the_contractnli_goals():
    report, _ = evaluate(load_contractnli(CONTRACTNLI_DEV), OfflineBackend(), show_progress=False)
    assert report.metrics.accuracy >= 0.65
    assert report.metrics.macro_f1 >= 0.55
    assert report.metrics.evidence_recall_at[3] >= 0.80


def test_offline_grader_on_the_held_out_samples_beats_always_answering_met():
    held_out = load_samples(HELDOUT_DIR)
    report, predictions = evaluate(held_out, OfflineBackend(), show_progress=False)
    always_met = sum(p.gold_grade is Grade.MET for p in predictions) / len(predictions)
    assert report.metrics.accuracy > always_met
    assert report.metrics.evidence_recall_at[3] >= 0.74
    assert report.metrics.citation_validity == 1.0
