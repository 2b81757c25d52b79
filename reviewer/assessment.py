"""The human layer of a review: evaluators' assessments, the lead's consensus, and the final grade of each
criterion computed from them. The grader's findings (the `ai` layer) are never edited: the final view is a
new Review whose scores come from the final grades through the same scoring code as the grader's."""

from collections.abc import Callable

from pydantic import BaseModel, Field

from reviewer.review import (
    EVIDENCE_REQUIRED,
    Assessment,
    Citation,
    Consensus,
    FinalSource,
    Finding,
    FindingFlag,
    Grade,
    Review,
    finding_points,
    overall_score,
    verdict_for,
)


class QuoteInput(BaseModel):
    """A quote a person adds as evidence; it is verified against the document like the grader's."""

    page: int = Field(ge=1)
    quote: str = Field(min_length=1, max_length=2000)


class Panel(BaseModel):
    """Everything people recorded on one review, oldest first."""

    assessments: list[Assessment] = Field(default_factory=list)
    consensus: list[Consensus] = Field(default_factory=list)

    def for_round(self, number: int) -> "Panel":
        """What people recorded on one round: each round is assessed on its own grades, earlier rounds stay."""
        return Panel(
            assessments=[a for a in self.assessments if a.round == number],
            consensus=[c for c in self.consensus if c.round == number],
        )

    def current_assessments(self, criterion_id: str) -> list[Assessment]:
        """Each evaluator's latest assessment of the criterion (an evaluator may change their mind)."""
        latest: dict[str, Assessment] = {}
        for assessment in self.assessments:
            if assessment.criterion_id == criterion_id:
                latest[assessment.evaluator] = assessment
        return list(latest.values())

    def current_consensus(self, criterion_id: str) -> Consensus | None:
        chosen = [c for c in self.consensus if c.criterion_id == criterion_id]
        return chosen[-1] if chosen else None

    def shows_to(self, evaluator: str) -> Callable[[str, int, str | None], bool]:
        """On a blind panel, whether `evaluator` may see an assessment by (author, round, criterion): their own,
        or another's of a criterion they have submitted their own assessment of in that round."""
        submitted = {(a.round, a.criterion_id) for a in self.assessments if a.evaluator == evaluator}
        return lambda author, number, criterion_id: author == evaluator or (number, criterion_id) in submitted

    def visible_to(self, evaluator: str, *, blind: bool, lead: bool) -> "Panel":
        """What one evaluator may see. On a blind panel, another evaluator's assessment of a criterion shows
        only once this evaluator has submitted their own for it; the lead sees everything."""
        if not blind or lead:
            return self
        shown = self.shows_to(evaluator)
        return Panel(
            assessments=[a for a in self.assessments if shown(a.evaluator, a.round, a.criterion_id)],
            consensus=self.consensus,
        )


class ReasonRequired(ValueError):
    pass


def check_reason(ai_grade: Grade | None, grade: Grade, reason: str | None) -> None:
    """A grade that differs from the grader's needs a reason a reader can check."""
    if grade != ai_grade and not (reason or "").strip():
        raise ReasonRequired(
            f"a reason is required: the grade {grade.value} differs from the grader's "
            f"{ai_grade.value if ai_grade else 'failed grading'}"
        )


def _final_grade(
    finding: Finding, current: list[Assessment], consensus: Consensus | None
) -> tuple[Grade | None, FinalSource]:
    if consensus is not None:
        return consensus.grade, FinalSource.CONSENSUS
    if len(current) == 1:
        return current[0].grade, FinalSource.EVALUATOR
    return finding.grade, FinalSource.AI


def _accepted_citations(finding: Finding, current: list[Assessment]) -> list[Citation]:
    rejected = {i for a in current for i in a.rejected_citations}
    kept = [c for i, c in enumerate(finding.citations) if i not in rejected]
    return kept + [c for a in current for c in a.citations]


def final_finding(finding: Finding, panel: Panel) -> Finding:
    current = panel.current_assessments(finding.criterion_id)
    consensus = panel.current_consensus(finding.criterion_id)
    grade, source = _final_grade(finding, current, consensus)
    citations = _accepted_citations(finding, current)
    grades = {a.grade for a in current}
    disagreement = len(grades) > 1 or (grade is not None and any(g != grade for g in grades)) or grade != finding.grade
    human = source is not FinalSource.AI or bool(current)
    if grade is None:
        flags, score = finding.flags, None
    elif not human:
        flags, score = finding.flags, finding.score
    else:
        flags = [f for f in finding.flags if f is FindingFlag.PAGE_CORRECTED and any(c.cited_page for c in citations)]
        if any(not c.verified for c in citations):
            flags.append(FindingFlag.UNVERIFIED_QUOTE)
        if grade in EVIDENCE_REQUIRED and not any(c.verified for c in citations):
            flags.append(FindingFlag.UNSUPPORTED)
        score = finding_points(grade, flags)
    return finding.model_copy(
        update={
            "grade": grade,
            "score": score,
            "citations": citations,
            "flags": flags,
            "error": finding.error if grade is None else None,
            "ai_grade": finding.grade,
            "final_grade": grade,
            "final_source": source,
            "confirmed": source is not FinalSource.AI,
            "assessments": current,
            "consensus": consensus,
            "disagreement": disagreement,
        }
    )


def final_review(review: Review, panel: Panel) -> Review:
    """The review as the panel decided it: final grades, scores recomputed from them by the scoring code.
    Only what people recorded on the review's own round counts (a round's grades are its grader's)."""
    panel = panel.for_round(review.round)
    findings = [final_finding(f, panel) for f in review.findings]
    score = overall_score(findings)
    red_flags = sum(1 for f in findings if f.grade is Grade.RED_FLAG)
    errors = sum(1 for f in findings if f.grade is None)
    return review.model_copy(
        update={
            "findings": findings,
            "overall_score": score,
            "score_complete": errors == 0,
            "verdict": verdict_for(score, red_flags, errors),
            "red_flag_count": red_flags,
            "unsupported_count": sum(1 for f in findings if FindingFlag.UNSUPPORTED in f.flags),
            "error_count": errors,
            "assessed": True,
            "disagreement_count": sum(1 for f in findings if f.disagreement),
            "confirmed_count": sum(1 for f in findings if f.confirmed),
        }
    )
