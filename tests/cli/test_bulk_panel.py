"""reviewer bulk as an evaluation: a rerun compares each vendor's latest round with the panel's final
grades, and its comparison.xlsx carries the Audit sheet the API's batches have."""

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook

from reviewer.cli import main
from reviewer.config import Settings
from reviewer.store import JobStore, make_engine
from tests.pdfs import text_pdf

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "coral_data.pdf"
ANSWER = text_pdf(["Answers to the clarification questions", "We delete client data thirty days after the end."])


def test_a_bulk_rerun_shows_the_latest_round_its_final_grades_and_an_audit_sheet(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "out"
    assert main(["bulk", str(SAMPLE), "--out", str(out), "--backend", "offline"]) == 0
    store = JobStore(make_engine(Settings.load().storage.resolved_database_url))
    review_id = store.list_jobs(None, 10, 0)[0][0].id
    (tmp_path / "answer.pdf").write_bytes(ANSWER)
    assert main(["round", review_id, str(tmp_path / "answer.pdf"), "--as", "ana"]) == 0
    round_2 = json.loads(store.get_round(review_id, 2).result)
    criterion = round_2["findings"][0]["criterion_id"]
    grade = "red_flag" if round_2["findings"][0]["grade"] != "red_flag" else "met"
    assert main(["assess", review_id, criterion, grade, "--reason", "clause 4", "--as", "ana"]) == 0
    capsys.readouterr()

    assert main(["bulk", str(SAMPLE), "--out", str(out), "--backend", "offline"]) == 0
    [row] = list(csv.DictReader(io.StringIO((out / "comparison.csv").read_text(encoding="utf-8"))))
    assert "round 2" in row["status"]
    assert row[round_2["findings"][0]["title"]].startswith(
        ("RED FLAG" if grade == "red_flag" else grade) + " (evaluator"
    )
    book = load_workbook(out / "comparison.xlsx")
    assert book.sheetnames[-1] == "Audit"
    audit = [[cell.value for cell in r] for r in book["Audit"].iter_rows(min_row=2)]
    actions = [r[3] for r in audit]
    assert actions[:2] == ["review_created", "ai_graded"] and actions[-1] == "assessed"
    assert (audit[-1][2], audit[-1][4]) == ("ana", criterion) and audit[-1][5].endswith(f"-> {grade} (clause 4)")


def _rounds_section(report: str) -> str:
    return report[report.index("## Clarification rounds") : report.index("## Findings")]


def test_a_bulk_runs_vendor_report_shows_what_each_round_changed_also_anonymised(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    assert main(["bulk", str(SAMPLE), "--out", str(tmp_path / "out"), "--backend", "offline"]) == 0
    assert "## Clarification rounds" not in (tmp_path / "out" / "reports" / "Coral-Data.md").read_text()
    store = JobStore(make_engine(Settings.load().storage.resolved_database_url))
    review_id = store.list_jobs(None, 10, 0)[0][0].id
    (tmp_path / "coral-answers.pdf").write_bytes(ANSWER)
    assert main(["round", review_id, str(tmp_path / "coral-answers.pdf"), "--as", "ana"]) == 0
    finding = json.loads(store.get_round(review_id, 2).result)["findings"][0]
    grade = "red_flag" if finding["grade"] != "red_flag" else "met"
    assert main(["assess", review_id, finding["criterion_id"], grade, "--reason", "clause 4", "--as", "ana"]) == 0

    assert main(["bulk", str(SAMPLE), "--out", str(tmp_path / "out"), "--backend", "offline"]) == 0
    section = _rounds_section((tmp_path / "out" / "reports" / "Coral-Data.md").read_text(encoding="utf-8"))
    assert "### Round 2: coral-answers.pdf, score " in section
    changed = next(line for line in section.splitlines() if f"(`{finding['criterion_id']}`)" in line)
    assert changed.split(" | ")[2] == grade.replace("_", " ")  # round 2's final grade: the evaluator's

    assert main(["bulk", str(SAMPLE), "--out", str(tmp_path / "anon"), "--backend", "offline", "--anonymize"]) == 0
    report = (tmp_path / "anon" / "reports" / "Vendor-A.md").read_text(encoding="utf-8")
    section = _rounds_section(report)
    assert "### Round 2: Vendor A answer 2.pdf, score " in section
    assert "coral" not in report.lower()  # neither the answer's file name nor the vendor's, anywhere


def test_assess_and_consensus_take_a_round_and_refuse_one_that_is_not_there(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    assert main(["bulk", str(SAMPLE), "--out", str(tmp_path / "out"), "--backend", "offline"]) == 0
    store = JobStore(make_engine(Settings.load().storage.resolved_database_url))
    review_id = store.list_jobs(None, 10, 0)[0][0].id
    first = json.loads(store.get(review_id).result)["findings"][0]
    capsys.readouterr()
    assert main(["assess", review_id, first["criterion_id"], first["grade"], "--round", "2", "--as", "ana"]) == 2
    err = capsys.readouterr().err
    assert "no round 2 (its rounds: 1)" in err and err.count("\n") == 1
    assert main(["assess", review_id, first["criterion_id"], first["grade"], "--round", "0"]) == 2
    assert "--round takes a round number" in capsys.readouterr().err
    (tmp_path / "answer.pdf").write_bytes(ANSWER)
    assert main(["round", review_id, str(tmp_path / "answer.pdf")]) == 0
    capsys.readouterr()
    assert main(["assess", review_id, first["criterion_id"], first["grade"], "--round", "1", "--as", "ana"]) == 0
    assert capsys.readouterr().out.strip().endswith(f"on {review_id}")
    assert main(["consensus", review_id, first["criterion_id"], "missing", "--reason", "r", "--as", "lead"]) == 0
    assert capsys.readouterr().out.strip().endswith("(set by lead), round 2")
    found, decided = store.panel_rows(review_id)
    assert [a.round for a in found] == [1] and [c.round for c in decided] == [2]
