"""Test doubles: a grading backend that returns whatever a test scripts."""

from reviewer.documents import Document
from reviewer.grading.base import RawCitation, RawFinding, RawGrading
from reviewer.rubric import Rubric


class ScriptedBackend:
    name = "scripted"
    offline = False

    def __init__(self, grading: RawGrading) -> None:
        self.grading = grading
        self.calls = 0

    async def grade(self, document: Document, rubric: Rubric) -> RawGrading:
        self.calls += 1
        return self.grading


def raw_grading_for(rubric: Rubric, grades: dict, *, quote: str, page: int = 1) -> RawGrading:
    """Every criterion graded as `grades` says, each citing `quote` on `page`."""
    return RawGrading(
        findings=[
            RawFinding(
                criterion_id=c.id,
                citations=[RawCitation(page=page, quote=quote)],
                rationale=f"graded {grades[c.id]}",
                grade=grades[c.id],
            )
            for c in rubric.criteria
        ]
    )
