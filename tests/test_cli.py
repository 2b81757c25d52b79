import json
from pathlib import Path

import pytest

from reviewer.cli import main
from reviewer.review import Review
from tests.pdfs import text_pdf

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_review_without_a_key_uses_the_offline_grader_and_says_so(capsys):
    code, out, err = run_cli(capsys, "review", str(SAMPLES / "northwind_analytics.pdf"), "--format", "json")
    assert code == 0
    review = Review.model_validate_json(out)
    assert review.offline and review.backend == "offline"
    assert len(review.findings) == 9
    assert "offline grader" in err
    assert review.warnings[0].code == "offline_grader"


def test_markdown_report_has_summary_findings_and_questions(capsys):
    code, out, _ = run_cli(capsys, "review", str(SAMPLES / "quanta_labs.pdf"), "--backend", "offline")
    assert code == 0
    assert out.startswith("# Proposal review")
    assert "**Offline grader.**" in out
    for heading in ("## Summary", "## Findings", "## Questions to send the vendor"):
        assert heading in out
    assert "verified" in out


def test_output_file_is_written_and_stdout_left_empty(capsys, tmp_path):
    target = tmp_path / "review.json"
    code, out, _ = run_cli(
        capsys, "review", str(SAMPLES / "coral_data.pdf"), "--format", "json", "--output", str(target)
    )
    assert code == 0 and out == ""
    assert Review.model_validate_json(target.read_text()).document.file_name == "coral_data.pdf"


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "empty"), (b"hello, I am a text file", "not a PDF")],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(capsys, tmp_path, content, expected):
    path = tmp_path / "proposal.pdf"
    path.write_bytes(content)
    code, out, err = run_cli(capsys, "review", str(path), "--backend", "offline")
    assert code == 2
    assert out == ""
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_missing_file_is_a_clear_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "review", str(tmp_path / "nope.pdf"))
    assert code == 2 and "cannot read file" in err


def test_anthropic_backend_without_a_key_says_how_to_set_it(capsys, tmp_path):
    path = tmp_path / "p.pdf"
    path.write_bytes(text_pdf(["We measure accuracy on an agreed evaluation set."]))
    code, _, err = run_cli(capsys, "review", str(path), "--backend", "anthropic")
    assert code == 2
    assert "ANTHROPIC_API_KEY" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_rubric_file_is_exit_2_naming_the_file(capsys, tmp_path):
    rubric = tmp_path / "bad.yaml"
    rubric.write_text("id: x\nversion: '1'\ntitle: t\ncriteria: []\n")
    code, _, err = run_cli(capsys, "review", str(SAMPLES / "coral_data.pdf"), "--rubric", str(rubric))
    assert code == 2
    assert "bad.yaml" in err


def test_unknown_backend_is_exit_2(capsys):
    code, _, err = run_cli(capsys, "review", str(SAMPLES / "coral_data.pdf"), "--backend", "gpt")
    assert code == 2 and "unknown backend 'gpt'" in err


def test_schema_command_prints_the_review_json_schema(capsys):
    code, out, _ = run_cli(capsys, "schema")
    schema = json.loads(out)
    assert code == 0
    assert schema["title"] == "Review"
    assert {"findings", "overall_score", "usage", "warnings"} <= set(schema["properties"])


def test_rubrics_lists_the_default_and_checks_a_file(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "rubrics")
    assert code == 0 and "default" in out and "9 criteria" in out
    code, out, _ = run_cli(
        capsys, "rubrics", "--check", str(Path(__file__).parent.parent / "reviewer/rubrics/default.yaml")
    )
    assert code == 0 and "ok" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["review", str(SAMPLES / "helix_systems.pdf"), "--output", "{blocked}/report.md"],
        ["eval", "--samples", "--no-progress", "--predictions", "{blocked}/predictions.jsonl"],
        ["eval", "--samples", "--no-progress", "--output", "{blocked}/eval.json"],
        ["bulk", str(SAMPLES / "helix_systems.pdf"), "--no-progress", "--out", "{blocked}/comparison"],
    ],
)
def test_an_unwritable_destination_is_refused_before_any_work(capsys, tmp_path, monkeypatch, argv):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")

    def must_not_run(*args, **kwargs):
        raise AssertionError("work started before the destination was checked")

    monkeypatch.setattr("reviewer.pipeline.review_document", must_not_run)
    monkeypatch.setattr("reviewer.evaluation.runner.evaluate", must_not_run)
    monkeypatch.setattr("reviewer.queue.bulk.run_bulk", must_not_run)
    code, out, err = run_cli(capsys, *[a.replace("{blocked}", str(blocked)) for a in argv])
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1].startswith(f"reviewer: error: {blocked}/")
    assert "cannot write here" in err


def test_a_folder_given_as_the_output_file_is_refused(capsys, tmp_path):
    code, _, err = run_cli(capsys, "review", str(SAMPLES / "helix_systems.pdf"), "--output", str(tmp_path))
    assert code == 2 and "is a folder; give a file name" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--no-auth", "--port", "99999"], "--port must be between 1 and 65535, got 99999"),
        (["serve", "--no-auth", "--workers", "0"], "--workers must be at least 1"),
        (["slack", "--port", "0"], "--port must be between 1 and 65535, got 0"),
    ],
)
def test_impossible_listen_options_are_refused_before_the_server_starts(capsys, monkeypatch, argv, message):
    import uvicorn

    def must_not_run(*args, **kwargs):
        raise AssertionError("the server started")

    monkeypatch.setattr(uvicorn, "run", must_not_run)
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and err.strip() == f"reviewer: error: {message}"


def test_the_cli_starts_without_importing_the_anthropic_sdk():
    import subprocess
    import sys

    probe = "import sys, reviewer.cli; print('anthropic' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_reader_that_closes_the_pipe_early_ends_the_command_quietly():
    """`reviewer schema | head -1`: the reader goes away before the output is written."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "reviewer.cli", "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # no reader left: every write the command makes fails with EPIPE
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) in (0, 141)
    assert err == ""  # neither "internal error: BrokenPipeError" nor "Exception ignored ..." at exit


@pytest.mark.parametrize(
    ("name", "extra", "looks_like"),
    [
        ("review.json", [], "json"),
        ("review.HTML", [], "html"),
        ("review.md", [], "markdown"),
        ("review.txt", [], "markdown"),
        ("review.json", ["--format", "markdown"], "markdown"),
    ],
)
def test_the_output_format_follows_the_file_name_unless_format_is_given(capsys, tmp_path, name, extra, looks_like):
    target = tmp_path / name
    code, _, _ = run_cli(
        capsys, "review", str(SAMPLES / "coral_data.pdf"), "--backend", "offline", "-o", str(target), *extra
    )
    assert code == 0
    text = target.read_text()
    if looks_like == "json":
        assert Review.model_validate_json(text).document.file_name == "coral_data.pdf"
    elif looks_like == "html":
        assert text.lstrip().lower().startswith("<!doctype html")
    else:
        assert text.startswith("# Proposal review")


@pytest.mark.parametrize(
    "argv",
    [
        ["review", str(SAMPLES / "helix_systems.pdf"), "--output", "{missing}/report.md"],
        ["bulk", str(SAMPLES / "helix_systems.pdf"), "--no-progress", "--out", "{missing}/comparison"],
    ],
)
def test_a_missing_output_folder_is_refused_not_created(capsys, tmp_path, monkeypatch, argv):
    missing = tmp_path / "no" / "such"

    def must_not_run(*args, **kwargs):
        raise AssertionError("work started before the destination was checked")

    monkeypatch.setattr("reviewer.pipeline.review_document", must_not_run)
    monkeypatch.setattr("reviewer.queue.bulk.run_bulk", must_not_run)
    code, out, err = run_cli(capsys, *[a.replace("{missing}", str(missing)) for a in argv])
    assert code == 2 and out == ""
    assert err.strip() == f"reviewer: error: {missing}/{Path(argv[-1]).name}: cannot write here (no folder {missing})"
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_output_files_are_as_readable_as_the_umask_allows(capsys, tmp_path, umask, expected):
    import os

    target = tmp_path / "review.md"
    previous = os.umask(umask)
    try:
        code, _, _ = run_cli(
            capsys, "review", str(SAMPLES / "coral_data.pdf"), "--backend", "offline", "-o", str(target)
        )
        assert code == 0
        assert target.stat().st_mode & 0o777 == expected
        target.chmod(0o600)  # a second run writes a new file, again by the umask
        assert (
            run_cli(capsys, "review", str(SAMPLES / "coral_data.pdf"), "--backend", "offline", "-o", str(target))[0]
            == 0
        )
        assert target.stat().st_mode & 0o777 == expected
    finally:
        os.umask(previous)


def test_the_anonymisation_key_stays_private_whatever_the_umask(tmp_path):
    import os

    from reviewer.output import write_atomically

    previous = os.umask(0o022)
    try:
        write_atomically(tmp_path / "anonymisation-key.json", "{}", private=True)
        write_atomically(tmp_path / "comparison.md", "# x")
    finally:
        os.umask(previous)
    assert (tmp_path / "anonymisation-key.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "comparison.md").stat().st_mode & 0o777 == 0o644


def test_model_with_the_offline_grader_is_said_to_be_ignored(capsys):
    argv = ["review", str(SAMPLES / "coral_data.pdf"), "--backend", "offline"]
    code, _, err = run_cli(capsys, *argv, "--model", "claude-opus-4")
    assert code == 0
    assert "reviewer: --model claude-opus-4 is ignored: the offline grader uses no language model" in err.splitlines()
    assert "--model" not in run_cli(capsys, *argv)[2]


def test_bulk_tells_a_failed_file_in_our_words_never_the_librarys(capsys, tmp_path, monkeypatch):
    """pypdf's messages can quote the file; a proposal's author writes the file."""
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "rfp"
    folder.mkdir()
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"<!here> PAYLOAD \x00 not a real pdf body\n" * 40)
    code, out, err = run_cli(
        capsys, "bulk", str(folder), "--backend", "offline", "--out", str(tmp_path / "out"), "--no-progress"
    )
    assert code == 1
    reason = "the PDF is damaged or malformed, so its text could not be read"
    assert f"reviewer: failed: broken.pdf: {reason}" in err.splitlines()
    assert f"failed: {reason}" in out
    for text in (out, err):
        assert "PAYLOAD" not in text and "malformed:" not in text and "Stream has ended" not in text
    from openpyxl import load_workbook

    outputs = [(tmp_path / "out" / name).read_text() for name in ("comparison.csv", "comparison.md", "comparison.html")]
    book = load_workbook(tmp_path / "out" / "comparison.xlsx")
    outputs.append(" ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row))
    outputs.append((tmp_path / "out" / ".reviewer-outputs.json").read_text())
    for text in outputs:  # the comparison and the manifest tell it in our words too
        assert "PAYLOAD" not in text and "Stream has ended" not in text and reason in text
