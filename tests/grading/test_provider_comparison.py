"""A buyer compares providers on the same labelled set: `reviewer eval` on each, then `reviewer eval-diff`,
which names the backend and model behind each run (issue 16: no lock-in)."""

import json

from reviewer.cli import main
from reviewer.evaluation.run_diff import read_predictions
from tests.fake_openai_server import FakeOpenAIServer


def test_eval_diff_compares_a_local_endpoint_with_the_offline_grader_and_names_both(tmp_path, capsys, monkeypatch):
    local, offline = tmp_path / "local.jsonl", tmp_path / "offline.jsonl"
    common = ["eval", "--samples", "--limit", "2", "--no-progress"]
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("REVIEWER_OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("REVIEWER_OPENAI_MODEL", "llama-4")
        assert main([*common, "--backend", "openai_compatible", "--predictions", str(local)]) == 0
    assert main([*common, "--backend", "offline", "--predictions", str(offline)]) == 0
    capsys.readouterr()
    assert {line.grader for line in read_predictions(local)} == {"openai_compatible llama-4"}
    assert {line.grader for line in read_predictions(offline)} == {"offline"}

    assert main(["eval-diff", str(offline), str(local), "--format", "json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["baseline_grader"] == "offline" and diff["candidate_grader"] == "openai_compatible llama-4"
    assert diff["labels"] == 18 and diff["documents"] == 2  # two proposals x nine criteria, paired

    assert main(["eval-diff", str(offline), str(local)]) == 0
    table = capsys.readouterr().out
    assert f"baseline  {offline}  (offline)" in table and f"candidate {local}  (openai_compatible llama-4)" in table


def test_a_predictions_file_from_before_graders_were_recorded_still_compares(tmp_path, capsys):
    written = tmp_path / "run.jsonl"
    assert (
        main(
            [
                "eval",
                "--samples",
                "--limit",
                "1",
                "--backend",
                "offline",
                "--no-progress",
                "--predictions",
                str(written),
            ]
        )
        == 0
    )
    old = tmp_path / "old.jsonl"
    old.write_text(
        "".join(
            json.dumps({k: v for k, v in json.loads(line).items() if k != "grader"}) + "\n"
            for line in written.read_text().splitlines()
        )
    )
    capsys.readouterr()
    assert main(["eval-diff", str(old), str(written), "--format", "json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert (
        diff["baseline_grader"] is None
        and diff["candidate_grader"] == "offline"
        and diff["verdict"] == "no clear difference"
    )
