import json

import pytest

from reviewer.cli import main
from reviewer.errors import BadInputError
from reviewer.evaluation.run_diff import PredictionLine, diff_runs, read_predictions
from reviewer.review import Grade

M, P, R = Grade.MET, Grade.PARTIAL, Grade.RED_FLAG


def run(outcomes: dict[tuple[str, str], tuple[Grade, Grade]]) -> list[PredictionLine]:
    """(document, criterion) -> (predicted, gold)"""
    return [
        PredictionLine(dataset="s", document_id=d, criterion_id=c, predicted_grade=predicted, gold_grade=gold)
        for (d, c), (predicted, gold) in outcomes.items()
    ]


def write(path, lines: list[PredictionLine]):
    path.write_text("".join(line.model_dump_json() + "\n" for line in lines))
    return path


def test_fixed_and_broken_labels_and_the_accuracy_difference_on_a_hand_made_pair_of_runs():
    baseline = run({("d1", "a"): (M, M), ("d1", "b"): (M, R), ("d2", "a"): (P, P), ("d2", "b"): (M, P)})
    candidate = run({("d1", "a"): (M, M), ("d1", "b"): (R, R), ("d2", "a"): (M, P), ("d2", "b"): (P, P)})
    diff = diff_runs(baseline, candidate, ("old", "new"))
    assert (diff.labels, diff.documents) == (4, 2)
    assert (diff.baseline_accuracy, diff.candidate_accuracy, diff.difference) == (0.5, 0.75, 0.25)
    assert (diff.fixed, diff.broken) == (2, 1)
    assert diff.per_criterion["b"].fixed == 2 and diff.per_criterion["a"].broken == 1
    # two documents: d1 gains 0.5, d2 gains 0.0; resamples give 0, 0.25 or 0.5
    assert (diff.difference_interval.low, diff.difference_interval.high) == (0.0, 0.5)
    assert diff.verdict == "no clear difference"


def test_a_run_compared_with_itself_shows_no_difference():
    lines = run({(f"d{n}", c): (M, M if n % 2 else R) for n in range(5) for c in "abc"})
    diff = diff_runs(lines, lines, ("a", "a"))
    assert diff.difference == 0 and (diff.difference_interval.low, diff.difference_interval.high) == (0, 0)
    assert (diff.fixed, diff.broken, diff.verdict) == (0, 0, "no clear difference")


def test_a_candidate_wrong_on_every_document_is_worse_beyond_the_noise():
    gold = {(f"d{n}", c): R for n in range(12) for c in "abc"}
    baseline = run({key: (R, g) for key, g in gold.items()})
    candidate = run({key: (R if key[1] == "a" else M, g) for key, g in gold.items()})
    diff = diff_runs(baseline, candidate, ("old", "new"))
    assert diff.difference_interval.high < 0 and diff.verdict == "worse"
    assert diff_runs(candidate, baseline, ("new", "old")).verdict == "better"


def test_labels_only_one_run_graded_are_counted_but_not_compared():
    baseline = run({("d1", "a"): (M, M), ("d1", "b"): (M, M)})
    candidate = run({("d1", "a"): (R, M), ("d2", "a"): (M, M)})
    diff = diff_runs(baseline, candidate, ("old", "new"))
    assert (diff.labels, diff.only_in_baseline, diff.only_in_candidate, diff.broken) == (1, 1, 1, 1)


def test_runs_on_different_labels_are_refused():
    with pytest.raises(BadInputError, match="different gold grades"):
        diff_runs(run({("d1", "a"): (M, M)}), run({("d1", "a"): (M, R)}), ("old", "new"))
    with pytest.raises(BadInputError, match="no document and criterion in common"):
        diff_runs(run({("d1", "a"): (M, M)}), run({("d2", "a"): (M, M)}), ("old", "new"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no predictions"),
        ('{"document_id": "d"}\n', ":1: not a prediction line"),
        ("not json\n", ":1: not a prediction line (not JSON)"),
        (
            '{"document_id":"d","criterion_id":"a","predicted_grade":"met","gold_grade":"met"}\n' * 2,
            "more than once",
        ),
        ('{"document_id":"d","criterion_id":"a","predicted_grade":"great","gold_grade":"met"}\n', ":1:"),
    ],
)
def test_a_bad_predictions_file_is_one_line_naming_the_file_and_line(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    good = write(tmp_path / "good.jsonl", run({("d", "a"): (M, M)}))
    assert main(["eval-diff", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reviewer: error: ") and message in err and str(bad) in err
    assert len(err.strip().splitlines()) == 1


def test_eval_diff_reads_what_eval_writes_and_gates_on_a_clear_regression(tmp_path, capsys):
    written = tmp_path / "offline.jsonl"
    assert main(["eval", "--samples", "--backend", "offline", "--no-progress", "--predictions", str(written)]) == 0
    capsys.readouterr()
    offline = read_predictions(written)
    assert len(offline) == 54 and {line.dataset for line in offline} == {"samples"}

    always_wrong = [
        line.model_copy(update={"predicted_grade": M if line.gold_grade is not M else P}) for line in offline
    ]
    worse = write(tmp_path / "worse.jsonl", always_wrong)
    assert main(["eval-diff", str(written), str(worse), "--format", "json", "--fail-if-worse"]) == 1
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["verdict"] == "worse" and report["candidate_accuracy"] == 0.0
    assert report["broken"] == sum(line.correct for line in offline) and report["fixed"] == 0
    assert "the candidate is worse" in err

    assert main(["eval-diff", str(written), str(written), "--fail-if-worse"]) == 0
    assert "verdict    no clear difference" in capsys.readouterr().out
