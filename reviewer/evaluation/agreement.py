"""How often people overrule the grader: per criterion, over the reviews a panel decided, the share whose
final grade (set by people) differs from the grader's. A measure of the grader, beside the labelled sets."""

from pydantic import BaseModel

from reviewer.review import FinalSource, Review


class CriterionAgreement(BaseModel):
    criterion_id: str
    title: str
    decided: int  # reviews where people set this criterion's final grade
    overruled: int  # of those, how many differ from the grader's grade

    @property
    def disagreement_rate(self) -> float | None:
        return self.overruled / self.decided if self.decided else None


def agreement(final_reviews: list[Review]) -> list[CriterionAgreement]:
    """`final_reviews`: reviews as the panel decided them (reviewer.assessment.final_review)."""
    rows: dict[str, CriterionAgreement] = {}
    for review in final_reviews:
        for f in review.findings:
            row = rows.setdefault(
                f.criterion_id, CriterionAgreement(criterion_id=f.criterion_id, title=f.title, decided=0, overruled=0)
            )
            if f.final_source is FinalSource.AI:
                continue
            row.decided += 1
            row.overruled += int(f.final_grade != f.ai_grade)
    return list(rows.values())
