"""reviewer round: the vendor's answer graded as the review's next round, over the local job store."""

import json
from pathlib import Path

from reviewer.cli import main
from reviewer.config import Settings
from reviewer.store import JobStore, make_engine
from tests.pdfs import text_pdf

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "coral_data.pdf"
ANSWER = text_pdf(["Answers to the clarification questions", "We delete client data thirty days after the end."])


def _store() -> JobStore:
    return JobStore(make_engine(Settings.load().storage.resolved_database_url))


def test_a_round_is_graded_in_process_prints_its_changes_and_keeps_round_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    assert main(["bulk", str(SAMPLE), "--out", str(tmp_path / "out"), "--backend", "offline"]) == 0
    store = _store()
    review_id = store.list_jobs(None, 10, 0)[0][0].id
    round_1 = store.get(review_id).result
    capsys.readouterr()
    (tmp_path / "answer.pdf").write_bytes(ANSWER)

    assert main(["round", review_id[:8], str(tmp_path / "answer.pdf"), "--as", "ana"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("round 2 (answer.pdf): score ") and "since round 1" in lines[0]
    criteria = [f["criterion_id"] for f in json.loads(round_1)["findings"]]
    assert [line.split(":")[0].strip(" *") for line in lines[1:] if not line.startswith("     ")] == criteria

    assert main(["round", review_id, str(tmp_path / "answer.pdf"), "--format", "json"]) == 0
    third = json.loads(capsys.readouterr().out)
    assert (third["number"], third["compared_with"], third["file_name"]) == (3, 2, "answer.pdf (round 3)")
    assert _store().get(review_id).result == round_1
    events, _ = _store().events(review_id)
    rounds = [(e.action, e.actor) for e in events if e.action.startswith("round_")]
    assert rounds[:2] == [("round_opened", "ana"), ("round_finished", "ana")]


def test_an_unknown_review_or_unreadable_answer_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "answer.pdf").write_bytes(ANSWER)
    assert main(["round", "deadbeef", str(tmp_path / "answer.pdf")]) == 2
    err = capsys.readouterr().err
    assert "no review with id 'deadbeef'" in err and err.count("\n") == 1
    assert main(["round", "deadbeef", str(tmp_path / "missing.pdf")]) == 2
    assert "cannot read" in capsys.readouterr().err
