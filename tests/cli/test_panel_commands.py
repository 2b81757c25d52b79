"""The panel's commands over the local job store: assess, consensus, audit, questions."""

import json
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader

from reviewer.cli import main
from reviewer.config import Settings
from reviewer.store import JobStore, make_engine

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "coral_data.pdf"


@pytest.fixture
def reviewed(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    assert main(["bulk", str(SAMPLE), "--out", str(tmp_path / "out"), "--backend", "offline"]) == 0
    store = JobStore(make_engine(Settings.load().storage.resolved_database_url))
    jobs, _ = store.list_jobs(None, 10, 0)
    capsys.readouterr()
    job = store.get(jobs[0].id)  # listings leave the result out
    return job.id, json.loads(job.result)


def test_assess_then_consensus_changes_the_final_grade_and_the_audit_says_who(reviewed, capsys, monkeypatch):
    review_id, review = reviewed
    first = review["findings"][0]
    other = "red_flag" if first["grade"] != "red_flag" else "met"
    assert main(["assess", review_id[:8], first["criterion_id"], other, "--as", "ana"]) == 2
    assert "reason is required" in capsys.readouterr().err
    assert main(["assess", review_id[:8], first["criterion_id"], other, "--reason", "clause 4", "--as", "ana"]) == 0
    assert f"ana assessed {first['criterion_id']} as {other}" in capsys.readouterr().out

    monkeypatch.setenv("REVIEWER_LEAD_EVALUATORS", "lead")
    assert main(["consensus", review_id, first["criterion_id"], "missing", "--reason", "x", "--as", "ana"]) == 2
    assert "only an evaluation lead" in capsys.readouterr().err
    assert main(["consensus", review_id, first["criterion_id"], "missing", "--reason", "agreed", "--as", "lead"]) == 0

    assert main(["audit", review_id]) == 0
    lines = capsys.readouterr().out.splitlines()[-2:]
    assert "ana  assessed" in lines[0] and f"-> {other} (clause 4)" in lines[0]
    assert "lead  consensus set" in lines[1] and f"{other} -> missing (agreed)" in lines[1]
    assert main(["audit", review_id, "--format", "json"]) == 0
    assert [e["action"] for e in json.loads(capsys.readouterr().out)][-2:] == ["assessed", "consensus_set"]


def test_questions_follow_final_grades_in_each_format(reviewed, tmp_path, capsys):
    review_id, review = reviewed
    met = next((f for f in review["findings"] if f["grade"] == "met"), None)
    assert main(["questions", review_id, "--format", "docx"]) == 2  # a binary format needs a file
    capsys.readouterr()
    if met is not None:  # a criterion the panel downgrades gets a question to the vendor
        assert main(["assess", review_id, met["criterion_id"], "partial", "--reason", "vague", "--as", "ana"]) == 0
        capsys.readouterr()
    assert main(["questions", review_id[:6], "--as", "ben"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("# Clarification questions: Coral Data\n")  # named as the comparison names it
    assert "1. " in markdown
    assert main(["audit", review_id, "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)[-1]
    assert (exported["action"], exported["actor"], exported["after"]["format"]) == ("questions_exported", "ben", "md")
    if met is not None:
        assert met["title"] in markdown
    assert main(["questions", review_id, "--format", "docx", "-o", str(tmp_path / "q.docx")]) == 0
    text = "\n".join(p.text for p in docx.Document(str(tmp_path / "q.docx")).paragraphs)
    assert "Please answer each question" in text
    assert main(["questions", review_id, "--format", "pdf", "-o", str(tmp_path / "q.pdf")]) == 0
    assert "Please answer each question" in PdfReader(str(tmp_path / "q.pdf")).pages[0].extract_text()


def test_reviews_lists_the_ids_the_other_commands_take(reviewed, capsys):
    review_id, _ = reviewed
    assert main(["reviews", "--limit", "5"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.split("\t")[:2] == [review_id, "done"] and line.endswith("coral_data.pdf\tdefault")
    assert line.split("\t")[2] not in ("", "-")  # the vendor as comparisons name it, never a blank


def test_agreement_reports_how_often_people_overruled_the_grader(reviewed, capsys):
    review_id, review = reviewed
    first, second = review["findings"][0], review["findings"][1]
    other = "red_flag" if first["grade"] != "red_flag" else "met"
    assert main(["assess", review_id, first["criterion_id"], other, "--reason", "clause 4", "--as", "ana"]) == 0
    assert main(["assess", review_id, second["criterion_id"], second["grade"], "--as", "ana"]) == 0
    capsys.readouterr()
    assert main(["agreement", "--format", "json"]) == 0
    rows = {r["criterion_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows[first["criterion_id"]]["decided"], rows[first["criterion_id"]]["disagreement_rate"]) == (1, 1.0)
    assert (rows[second["criterion_id"]]["decided"], rows[second["criterion_id"]]["disagreement_rate"]) == (1, 0.0)
    assert rows[review["findings"][2]["criterion_id"]]["disagreement_rate"] is None  # nobody decided it
    assert main(["agreement"]) == 0
    assert "1 review with grades set by people" in capsys.readouterr().out


def test_an_unknown_review_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    assert main(["assess", "deadbeef", "x", "met"]) == 2
    err = capsys.readouterr().err
    assert "no review with id 'deadbeef'" in err and err.count("\n") == 1
