import json
from datetime import UTC, datetime

from reviewer.comparison import Entry, build_comparison
from reviewer.render.slack import MAX_BLOCKS, MAX_HEADER, MAX_SECTION, comparison_blocks, summary_blocks
from reviewer.review import Citation, DocumentInfo, Finding, Grade, Review, RubricInfo, Verdict
from reviewer.rubric import Criterion, Guidance, Rubric


def review_with(findings: list[Finding], name: str = "proposal.pdf") -> Review:
    return Review(
        created_at=datetime.now(UTC),
        document=DocumentInfo(file_name=name, sha256="0" * 64, pages=3),
        rubric=RubricInfo(id="r", version="1", title="R"),
        backend="anthropic",
        offline=False,
        model="m",
        findings=findings,
        overall_score=50.0,
        score_complete=True,
        verdict=Verdict.RED_FLAGS,
        red_flag_count=sum(f.grade is Grade.RED_FLAG for f in findings),
        unsupported_count=0,
        error_count=0,
    )


def finding(i: int, grade: Grade, text_size: int = 80) -> Finding:
    return Finding(
        criterion_id=f"c{i}",
        title=f"Criterion {i} <with> & symbols",
        kind="vendor",
        weight=1,
        grade=grade,
        score=0.0,
        rationale="x" * text_size,
        citations=[Citation(page=2, quote="q" * text_size, verified=True, start=0, end=1)],
        clarification_question="Why? " * (text_size // 5),
    )


def all_text(blocks: list[dict]) -> str:
    return json.dumps(blocks)


def test_a_short_review_has_header_scores_one_line_per_criterion_red_flags_questions_and_link():
    findings = [finding(1, Grade.MET), finding(2, Grade.RED_FLAG), finding(3, Grade.MISSING)]
    blocks = summary_blocks(review_with(findings), "abc123", "https://r.example.com/")
    assert blocks[0]["type"] == "header"
    text = all_text(blocks)
    assert ":white_check_mark: *Criterion 1 &lt;with&gt; &amp; symbols*" in text
    assert ":triangular_flag_on_post: Red flags" in text and "(p. 2:" in text
    assert "Questions to send the vendor" in text
    assert "https://r.example.com/v1/reviews/abc123/report?format=html" in text


def test_a_very_long_review_stays_within_slacks_limits():
    findings = [finding(i, [Grade.MET, Grade.PARTIAL, Grade.RED_FLAG, Grade.MISSING][i % 4], 2000) for i in range(120)]
    blocks = summary_blocks(review_with(findings, name="n" * 400 + ".pdf"), "abc123", "https://r.example.com")
    assert len(blocks) <= MAX_BLOCKS
    assert len(blocks[0]["text"]["text"]) <= MAX_HEADER
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION
    text = all_text(blocks)
    assert "more in the full report" in text
    assert "abc123" in text  # the link to the full report always survives


def test_comparison_blocks_rank_vendors_with_grade_emojis():
    criterion = Criterion(
        id="c1",
        title="Criterion 1",
        kind="vendor",
        weight=1,
        description="d",
        guidance=Guidance(met="m", partial="p", red_flag="r"),
    )
    rubric = Rubric(id="r", version="1", title="R", criteria=[criterion])
    entries = [
        Entry(vendor="Acme", file_name="a.pdf", review=review_with([finding(1, Grade.MET)])),
        Entry(vendor="Beta", file_name="b.pdf", error="review failed"),
    ]
    text = all_text(comparison_blocks(build_comparison(entries, rubric)))
    assert "1. *Acme* 50/100" in text and ":white_check_mark:" in text and "*Beta*: no review" in text


def test_review_command_previews_the_slack_blocks(capsys):
    from pathlib import Path

    from reviewer.cli import main

    sample = Path(__file__).resolve().parent.parent / "samples" / "coral_data.pdf"
    assert main(["review", str(sample), "--backend", "offline", "--format", "slack"]) == 0
    message = json.loads(capsys.readouterr().out)
    assert message["text"].startswith("Review of coral_data.pdf")
    assert message["blocks"][0]["type"] == "header" and len(message["blocks"]) <= MAX_BLOCKS


def test_the_slack_only_server_needs_its_settings_and_serves_no_review_api(capsys, monkeypatch, tmp_path):
    from fastapi.testclient import TestClient

    from reviewer.cli import main
    from reviewer.server import create_slack_server as create_slack_app

    assert main(["slack"]) == 2 and "REVIEWER_SLACK_BOT_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("REVIEWER_SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("REVIEWER_SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    with TestClient(create_slack_app()) as client:
        assert client.get("/healthz").status_code == 200
        assert client.post("/slack/events", content=b"{}").status_code == 401  # unsigned, so refused
        assert client.get("/v1/reviews").status_code == 404
        assert "/v1/reviews" not in client.get("/openapi.json").text
