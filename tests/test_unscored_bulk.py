import csv
import io
import shutil
from pathlib import Path

from reviewer.cli import main
from reviewer.grading.base import CriterionFailure, RawGrading
from reviewer.grading.offline import OfflineBackend

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_bulk_reports_a_review_whose_every_criterion_failed_as_failed_instead_of_crashing(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "rfp"
    folder.mkdir()
    shutil.copy(SAMPLES / "helix_systems.pdf", folder / "helix_systems.pdf")

    def every_criterion_fails(self, document, rubric):
        return RawGrading(failures=[CriterionFailure(criterion_id=c.id, reason="timed out") for c in rubric.criteria])

    monkeypatch.setattr(OfflineBackend, "grade_sync", every_criterion_fails)
    out = tmp_path / "out"
    code = main(["bulk", str(folder), "--backend", "offline", "--out", str(out), "--no-progress"])
    stdout, err = capsys.readouterr()
    assert "internal error" not in err
    assert code in (0, 1)
    (row,) = csv.DictReader(io.StringIO((out / "comparison.csv").read_text()))
    assert row["status"].startswith("failed: no criterion could be graded") and row["score"] == ""
    assert row["red flags"] == "" and "red flags 0" not in stdout
    assert "failed: no criterion could be graded" in stdout
