"""The Review: the product's contract (JSON out, JSON Schema published), and the scoring that code,
never the model, computes from grades and weights."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from reviewer.notices import ReviewWarning

SCHEMA_VERSION = "1.0"


class Grade(StrEnum):
    MET = "met"
    PARTIAL = "partial"
    MISSING = "missing"
    RED_FLAG = "red_flag"


GRADE_POINTS: dict[Grade, float] = {
    Grade.MET: 1.0,
    Grade.PARTIAL: 0.5,
    Grade.MISSING: 0.0,
    Grade.RED_FLAG: 0.0,
}
EVIDENCE_REQUIRED = frozenset({Grade.MET, Grade.PARTIAL, Grade.RED_FLAG})


class FindingFlag(StrEnum):
    UNSUPPORTED = "unsupported"
    UNVERIFIED_QUOTE = "unverified_quote"
    PAGE_CORRECTED = "page_corrected"
    GRADING_ERROR = "grading_error"


class Verdict(StrEnum):
    STRONG = "strong"
    NEEDS_CLARIFICATION = "needs_clarification"
    WEAK = "weak"
    RED_FLAGS = "red_flags"
    INCOMPLETE = "incomplete"


class Citation(BaseModel):
    page: int = Field(ge=1, description="1-based page the quote is on (corrected if the cited page was wrong).")
    quote: str = Field(description="The quote as the grader gave it.")
    verified: bool = Field(description="True only if the quote was found in our own extraction of the page.")
    start: int | None = Field(default=None, description="Character offset of the match in the page text.")
    end: int | None = Field(default=None, description="End offset (exclusive) of the match in the page text.")
    cited_page: int | None = Field(
        default=None, description="The page the grader cited, when it differs from where the quote is."
    )
    note: str | None = None
    ocr: bool = Field(
        default=False, description="The quote was found on a page read by OCR: check it against the page's image."
    )
    document: str | None = Field(
        default=None, description="In a clarification round: the file the quote is in (the proposal or an answer)."
    )
    document_page: int | None = Field(
        default=None, ge=1, description="In a clarification round: the quote's page in that file's own numbering."
    )


class FinalSource(StrEnum):
    """Which layer a final grade came from."""

    AI = "ai"
    EVALUATOR = "evaluator"
    CONSENSUS = "consensus"


class Assessment(BaseModel):
    """A named evaluator's grade for one criterion: the human layer beside the grader's finding."""

    id: str
    review_id: str
    criterion_id: str
    evaluator: str
    round: int = Field(default=1, ge=1, description="The clarification round assessed (1: the proposal alone).")
    grade: Grade
    reason: str | None = Field(default=None, description="Required when the grade differs from the grader's.")
    note: str | None = None
    rejected_citations: list[int] = Field(
        default_factory=list, description="Indexes of the grader's citations this evaluator says do not support it."
    )
    citations: list["Citation"] = Field(
        default_factory=list, description="Quotes the evaluator added, verified against the document."
    )
    created_at: datetime


class Consensus(BaseModel):
    """The evaluation lead's decision for one criterion; it overrides every other grade."""

    review_id: str
    criterion_id: str
    round: int = Field(default=1, ge=1, description="The clarification round decided.")
    grade: Grade
    reason: str
    lead: str
    created_at: datetime


class Finding(BaseModel):
    criterion_id: str
    title: str
    kind: str
    weight: float
    grade: Grade | None = Field(description="None only when grading this criterion failed (see error).")
    score: float | None = Field(
        default=None,
        description="Points counted for this criterion, 0..1: the grade's points, or 0 if unsupported.",
    )
    rationale: str = Field(default="", description="Why this grade, in words for the person reading the report.")
    details: str | None = Field(
        default=None,
        description="The figures behind the grade (e.g. the offline grader's relevance and thresholds), for "
        "whoever checks or calibrates the grader; not meant for the report's reader.",
    )
    citations: list[Citation] = Field(default_factory=list)
    clarification_question: str | None = None
    flags: list[FindingFlag] = Field(default_factory=list)
    error: str | None = None
    # The human layer, filled in the final view (reviewer.assessment.final_review); the grader leaves it empty.
    ai_grade: Grade | None = Field(default=None, description="The grader's grade, as it produced it.")
    final_grade: Grade | None = Field(default=None, description="The grade that counts (equal to `grade`).")
    final_source: FinalSource = FinalSource.AI
    confirmed: bool = Field(default=False, description="False while the final grade is the grader's, unconfirmed.")
    assessments: list[Assessment] = Field(default_factory=list, description="Each evaluator's latest assessment.")
    consensus: Consensus | None = None
    disagreement: bool = Field(
        default=False, description="Evaluators disagree with each other, or the final grade differs from the grader's."
    )

    @property
    def verified_citations(self) -> list[Citation]:
        return [c for c in self.citations if c.verified]


class Usage(BaseModel):
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    estimated_cost_usd: float = 0.0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(**{name: getattr(self, name) + getattr(other, name) for name in Usage.model_fields})


class DocumentInfo(BaseModel):
    file_name: str
    sha256: str
    pages: int
    source: str = "pdf"


class RubricInfo(BaseModel):
    id: str
    version: str
    title: str


class Review(BaseModel):
    schema_version: str = SCHEMA_VERSION
    created_at: datetime
    document: DocumentInfo
    rubric: RubricInfo
    backend: str
    offline: bool = Field(description="True when graded by the offline grader, not by a language model.")
    model: str | None = None
    prompt_version: str | None = None
    vendor_name: str | None = None
    blind: bool = Field(
        default=False,
        description="True when the grader was sent the document with names, products, people and contact details "
        "replaced by placeholders (blind model input; see the blind_model_input warning).",
    )
    round: int = Field(
        default=1,
        ge=1,
        description="The clarification round graded: 1 is the proposal alone, 2 and later add the vendor's answers.",
    )
    findings: list[Finding]
    overall_score: float | None = Field(
        description="0-100: weighted mean of finding scores over the criteria that were graded."
    )
    score_complete: bool = Field(description="False when some criteria could not be graded.")
    verdict: Verdict
    red_flag_count: int
    unsupported_count: int
    error_count: int
    warnings: list[ReviewWarning] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    assessed: bool = Field(
        default=False, description="True in the panel's view: grades are final grades (see each finding's source)."
    )
    confirmed_count: int = 0
    disagreement_count: int = 0


def finding_points(grade: Grade, flags: list[FindingFlag]) -> float:
    """Evidence policy: a grade that needs evidence but has no verified quote earns no points."""
    if FindingFlag.UNSUPPORTED in flags:
        return 0.0
    return GRADE_POINTS[grade]


def overall_score(findings: list[Finding]) -> float | None:
    graded = [f for f in findings if f.score is not None]
    total_weight = sum(f.weight for f in graded)
    if not total_weight:
        return None
    return round(100 * sum(f.weight * f.score for f in graded) / total_weight, 1)


def verdict_for(score: float | None, red_flags: int, errors: int) -> Verdict:
    if errors or score is None:
        return Verdict.INCOMPLETE
    if red_flags:
        return Verdict.RED_FLAGS
    if score >= 75:
        return Verdict.STRONG
    if score >= 50:
        return Verdict.NEEDS_CLARIFICATION
    return Verdict.WEAK
