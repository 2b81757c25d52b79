"""The final grade of a criterion and the scores computed from it (reviewer.assessment)."""

from datetime import UTC, datetime

import pytest

from reviewer.assessment import Panel, ReasonRequired, check_reason, final_review
from reviewer.pipeline import assemble_review
from reviewer.review import Assessment, Citation, Consensus, FinalSource, FindingFlag, Grade
from tests.conftest import make_document
from tests.fakes import raw_grading_for

NOW = datetime(2026, 12, 1, tzinfo=UTC)
PAGE = "Client data is never used to train models for other customers. Source code is delivered at handover."


def assessed(criterion: str, evaluator: str, grade: Grade, **extra) -> Assessment:
    return Assessment(
        id=f"{criterion}-{evaluator}-{grade}",
        review_id="r",
        criterion_id=criterion,
        evaluator=evaluator,
        grade=grade,
        reason=extra.pop("reason", "read the page"),
        created_at=NOW,
        **extra,
    )


def decided(criterion: str, grade: Grade) -> Consensus:
    return Consensus(review_id="r", criterion_id=criterion, grade=grade, reason="panel", lead="lead", created_at=NOW)


@pytest.fixture
def review(rubric):
    document = make_document(PAGE)
    grades = {c.id: Grade.MET for c in rubric.criteria}
    return assemble_review(
        document,
        rubric,
        raw_grading_for(rubric, grades, quote="Client data is never used to train models for other customers."),
        backend="test",
        offline=False,
    )


def finding(review, criterion_id):
    return next(f for f in review.findings if f.criterion_id == criterion_id)


def test_without_assessments_the_grader_grade_counts_unconfirmed(review):
    final = final_review(review, Panel())
    first = final.findings[0]
    assert first.final_source is FinalSource.AI and not first.confirmed and not first.disagreement
    assert first.ai_grade is first.grade is first.final_grade is Grade.MET
    assert final.overall_score == review.overall_score and final.assessed and final.confirmed_count == 0


def test_precedence_consensus_then_a_single_evaluator_then_the_grader(review):
    cid = review.findings[0].criterion_id
    one = Panel(assessments=[assessed(cid, "ana", Grade.PARTIAL)])
    f = finding(final_review(review, one), cid)
    assert (f.grade, f.final_source, f.confirmed, f.disagreement) == (Grade.PARTIAL, FinalSource.EVALUATOR, True, True)

    two = Panel(assessments=[assessed(cid, "ana", Grade.PARTIAL), assessed(cid, "ben", Grade.MISSING)])
    f = finding(final_review(review, two), cid)
    assert (f.grade, f.final_source, f.confirmed, f.disagreement) == (Grade.MET, FinalSource.AI, False, True)

    settled = Panel(assessments=two.assessments, consensus=[decided(cid, Grade.MISSING)])
    f = finding(final_review(review, settled), cid)
    assert (f.grade, f.final_source, f.confirmed) == (Grade.MISSING, FinalSource.CONSENSUS, True)
    assert f.ai_grade is Grade.MET and len(f.assessments) == 2


def test_an_evaluator_who_changes_their_mind_counts_once_with_the_latest_grade(review):
    cid = review.findings[0].criterion_id
    panel = Panel(assessments=[assessed(cid, "ana", Grade.MISSING), assessed(cid, "ana", Grade.MET)])
    f = finding(final_review(review, panel), cid)
    assert f.final_source is FinalSource.EVALUATOR and f.grade is Grade.MET and not f.disagreement
    assert [a.grade for a in f.assessments] == [Grade.MET]


def test_scores_verdict_and_counts_are_recomputed_from_final_grades(review):
    cid = review.findings[0].criterion_id
    panel = Panel(consensus=[decided(cid, Grade.RED_FLAG)])
    final = final_review(review, panel)
    assert review.overall_score == 100.0 and review.red_flag_count == 0
    assert final.red_flag_count == 1 and final.verdict.value == "red_flags"
    weights = {f.criterion_id: f.weight for f in review.findings}
    expected = round(100 * (sum(weights.values()) - weights[cid]) / sum(weights.values()), 1)
    assert final.overall_score == expected
    assert review.findings[0].grade is Grade.MET  # the grader's layer is untouched


def test_rejecting_the_only_quote_leaves_a_human_met_unsupported_and_unscored(review):
    cid = review.findings[0].criterion_id
    panel = Panel(assessments=[assessed(cid, "ana", Grade.MET, rejected_citations=[0])])
    f = finding(final_review(review, panel), cid)
    assert f.citations == [] and FindingFlag.UNSUPPORTED in f.flags and f.score == 0.0
    own = Citation(page=1, quote="Source code is delivered at handover.", verified=True, start=64, end=101)
    panel = Panel(assessments=[assessed(cid, "ana", Grade.MET, rejected_citations=[0], citations=[own])])
    f = finding(final_review(review, panel), cid)
    assert f.citations == [own] and f.score == 1.0 and FindingFlag.UNSUPPORTED not in f.flags


def test_a_grade_that_differs_from_the_grader_needs_a_reason():
    check_reason(Grade.MET, Grade.MET, None)
    with pytest.raises(ReasonRequired):
        check_reason(Grade.MET, Grade.PARTIAL, "  ")
    with pytest.raises(ReasonRequired):
        check_reason(None, Grade.MET, None)


def test_a_blind_panel_shows_other_evaluators_grades_only_after_submitting_ones_own(review):
    a, b = review.findings[0].criterion_id, review.findings[1].criterion_id
    panel = Panel(
        assessments=[
            assessed(a, "ana", Grade.PARTIAL),
            assessed(b, "ana", Grade.MISSING),
            assessed(a, "ben", Grade.MET),
        ]
    )
    bens = panel.visible_to("ben", blind=True, lead=False)
    assert {(x.evaluator, x.criterion_id) for x in bens.assessments} == {("ana", a), ("ben", a)}
    f = finding(final_review(review, bens), b)
    assert f.assessments == [] and f.final_source is FinalSource.AI  # ana's grade of b does not leak via the final
    assert len(panel.visible_to("ben", blind=False, lead=False).assessments) == 3
    assert len(panel.visible_to("lead", blind=True, lead=True).assessments) == 3


def test_the_report_of_a_panels_review_says_where_each_final_grade_came_from(review):
    from reviewer.render.markdown import render_markdown

    a, b = review.findings[0].criterion_id, review.findings[1].criterion_id
    panel = Panel(
        assessments=[assessed(a, "ana", Grade.PARTIAL, reason="only <b>on request</b>"), assessed(b, "ben", Grade.MET)],
        consensus=[decided(a, Grade.MISSING)],
    )
    text = render_markdown(final_review(review, panel))
    assert "2 of 9 criteria confirmed by people · 1 disagreement" in text
    assert "panel consensus, disputed" in text and "grader, unconfirmed" in text
    assert "- ana graded 🟡 partial: only &lt;b&gt;on request&lt;/b&gt;" in text
    assert "**Consensus** by lead: ⚪ missing: panel" in text
    assert "Grader's grade" not in render_markdown(review)  # the grader's own report has no panel lines
