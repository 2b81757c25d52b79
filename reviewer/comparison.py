"""Side-by-side comparison of vendors reviewed under one rubric: a matrix of grades, weighted totals,
ranks, red flags and unsupported findings, and every finding with its evidence. Computed by code from
the reviews; renderers (render/comparison.py) turn it into CSV, XLSX, HTML and Markdown."""

import re
import string
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from reviewer.review import Grade, Review
from reviewer.rounds import RoundSummary
from reviewer.rubric import RequirementSource, Rubric


class CriterionColumn(BaseModel):
    id: str
    title: str
    kind: str
    weight: float
    reference: str | None = Field(default=None, description="the RFP's clause number, for an RFP's rubric")
    requirement: str | None = Field(default=None, description="the requirement's own text")
    mandatory: bool = False
    members: list[RequirementSource] = Field(
        default_factory=list, description="the RFP requirements this criterion grades together (from-rfp --group)"
    )


FAILS_MANDATORY = frozenset({Grade.MISSING, Grade.RED_FLAG})
MandatoryPolicy = Literal["flag", "exclude"]


class PanelCell(BaseModel):
    """Where one vendor's final grade of one criterion came from."""

    source: str = Field(description="ai (unconfirmed), evaluator or consensus")
    evaluators: int = 0
    disagreement: bool = False


class VendorRow(BaseModel):
    key: str = Field(description="Unique within the comparison, even when two vendors share a name.")
    vendor: str
    file_name: str
    file_names: list[str] = Field(default_factory=list, description="every file that carried this document")
    review_id: str | None = None
    status: str = Field(
        description="'done', or 'failed' when there is no review or no criterion could be graded (see error)"
    )
    error: str | None = None
    overall_score: float | None = None
    score_complete: bool = False
    rank: int | None = None
    tied: bool = False
    verdict: str | None = None
    red_flags: int | None = Field(default=None, description="None when the proposal has no scored review.")
    unsupported: int | None = None
    grades: dict[str, Grade | None] = Field(default_factory=dict, description="criterion id -> grade")
    panel: dict[str, PanelCell] = Field(
        default_factory=dict, description="criterion id -> source of the final grade (a panel's evaluation only)"
    )
    offline: bool = False
    round: int | None = Field(
        default=None, description="the clarification round these grades are from (the latest done one)"
    )
    failed_mandatory: list[str] = Field(
        default_factory=list, description="mandatory requirements this proposal does not meet (missing or red flag)"
    )
    excluded: bool = Field(default=False, description="left out of the ranking for failing a mandatory requirement")


class Evidence(BaseModel):
    page: int
    quote: str
    verified: bool
    document: str | None = Field(default=None, description="in a clarification round: the file the quote is in")
    document_page: int | None = Field(default=None, description="the quote's page in that file")

    @property
    def where(self) -> str:
        """'p. 3', or 'answer.pdf p. 2' for a quote of a clarification round's file."""
        if self.document:
            return f"{self.document} p. {self.document_page or self.page}"
        return f"p. {self.page}"


class FindingRow(BaseModel):
    """One finding of one vendor, with the quotes it stands on (verified ones, else the first given)."""

    key: str = Field(description="The vendor row's key.")
    vendor: str
    criterion_id: str
    criterion: str
    grade: Grade | None
    evidence: list[Evidence] = Field(default_factory=list)
    rationale: str
    question: str | None
    flags: list[str]
    panel: PanelCell | None = None


class AuditLine(BaseModel):
    vendor: str
    at: datetime
    actor: str
    action: str
    criterion_id: str | None = None
    change: str = ""


class Comparison(BaseModel):
    rubric_id: str
    rubric_version: str
    rubric_title: str
    generated_at: datetime
    anonymized: bool = False
    criteria: list[CriterionColumn]
    rows: list[VendorRow]
    findings: list[FindingRow]
    assessed: bool = Field(default=False, description="grades are a panel's final grades")
    audit: list[AuditLine] = Field(default_factory=list, description="the panel's events, per vendor")


class Entry(BaseModel):
    """One proposal of the run: its vendor, its file, and its review or why there is none."""

    vendor: str
    file_name: str
    file_names: list[str] = Field(default_factory=list, description="every file with this content (copies)")
    review_id: str | None = None
    review: Review | None = None
    error: str | None = None
    rounds: list[RoundSummary] = Field(
        default_factory=list, description="the review's clarification rounds, for its report's round-over-round section"
    )


def _rank(rows: list[VendorRow]) -> None:
    """Competition ranking on the overall score (1, 2=, 2=, 4); rows without a score are unranked."""
    scored = sorted((r for r in rows if r.overall_score is not None and not r.excluded), key=lambda r: -r.overall_score)
    for row in scored:
        row.rank = 1 + sum(1 for other in scored if other.overall_score > row.overall_score)
    counts: dict[int, int] = {}
    for row in scored:
        counts[row.rank] = counts.get(row.rank, 0) + 1
    for row in scored:
        row.tied = counts[row.rank] > 1


def _unscored_reason(review: Review) -> str:
    errors = [f.error for f in review.findings if f.error]
    detail = f": {errors[0]}" if errors else ""
    return f"no criterion could be graded{detail}"


def _row(key: str, entry: Entry) -> VendorRow:
    review = entry.review
    base = {
        "key": key,
        "vendor": entry.vendor,
        "file_name": entry.file_name,
        "file_names": entry.file_names or [entry.file_name],
        "review_id": entry.review_id,
    }
    if review is None:
        return VendorRow(**base, status="failed", error=entry.error or "no review")
    grades = {f.criterion_id: f.grade for f in review.findings}
    base["round"] = review.round
    base["panel"] = {f.criterion_id: _panel_cell(f) for f in review.findings} if review.assessed else {}
    if review.overall_score is None:
        return VendorRow(**base, status="failed", error=_unscored_reason(review), grades=grades, offline=review.offline)
    return VendorRow(
        **base,
        status="done",
        overall_score=review.overall_score,
        score_complete=review.score_complete,
        verdict=review.verdict.value,
        red_flags=review.red_flag_count,
        unsupported=review.unsupported_count,
        grades=grades,
        offline=review.offline,
    )


def _panel_cell(finding) -> PanelCell:
    return PanelCell(
        source=finding.final_source.value, evaluators=len(finding.assessments), disagreement=finding.disagreement
    )


def _finding_rows(key: str, vendor: str, review: Review) -> list[FindingRow]:
    rows = []
    for f in review.findings:
        cited = f.verified_citations or f.citations[:1]
        rows.append(
            FindingRow(
                key=key,
                vendor=vendor,
                criterion_id=f.criterion_id,
                criterion=f.title,
                grade=f.grade,
                evidence=[
                    Evidence(
                        page=c.page,
                        quote=c.quote,
                        verified=c.verified,
                        document=c.document,
                        document_page=c.document_page,
                    )
                    for c in cited
                ],
                rationale=f.error or f.rationale,
                question=f.clarification_question,
                flags=[flag.value for flag in f.flags],
                panel=_panel_cell(f) if review.assessed else None,
            )
        )
    return rows


def _mandatory_failures(rows: list[VendorRow], rubric: Rubric, policy: "MandatoryPolicy") -> None:
    mandatory = [c.id for c in rubric.criteria if c.mandatory]
    for row in rows:
        row.failed_mandatory = [cid for cid in mandatory if row.grades.get(cid) in FAILS_MANDATORY]
        if row.failed_mandatory and policy == "exclude" and row.overall_score is not None:
            row.excluded = True


def build_comparison(entries: list[Entry], rubric: Rubric, *, mandatory: "MandatoryPolicy" = "flag") -> Comparison:
    """`mandatory`: a proposal failing a mandatory requirement is flagged in the ranking, or left out of it."""
    rows, findings = [], []
    for i, entry in enumerate(entries, 1):
        key = f"v{i}"
        rows.append(_row(key, entry))
        if entry.review is not None:
            findings += _finding_rows(key, entry.vendor, entry.review)
    _mandatory_failures(rows, rubric, mandatory)
    _rank(rows)
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.vendor.lower()))
    return Comparison(
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        rubric_title=rubric.title,
        generated_at=datetime.now(UTC),
        criteria=[
            CriterionColumn(
                id=c.id,
                title=c.title,
                kind=c.kind.value,
                weight=c.weight,
                reference=c.reference,
                requirement=c.source_quote or c.description,
                mandatory=c.mandatory,
                members=c.members,
            )
            for c in rubric.criteria
        ],
        rows=rows,
        findings=findings,
        assessed=any(e.review is not None and e.review.assessed for e in entries),
    )


def blind_label(index: int) -> str:
    """0 -> 'Vendor A', 25 -> 'Vendor Z', 26 -> 'Vendor AA'."""
    letters, n = "", index
    while True:
        letters = string.ascii_uppercase[n % 26] + letters
        n = n // 26 - 1
        if n < 0:
            return f"Vendor {letters}"


_LEGAL_SUFFIXES = {
    "ltd",
    "ltd.",
    "limited",
    "inc",
    "inc.",
    "llc",
    "gmbh",
    "ag",
    "sa",
    "plc",
    "corp",
    "corp.",
    "co",
    "co.",
    "group",
    "bv",
    "b.v.",
    "srl",
    "oy",
    "ab",
    "as",
}


def name_variants(vendor: str) -> list[str]:
    """The forms a vendor's name takes in its own proposal: in full, without a legal suffix, and its
    first word when that is distinctive (capitalised, 4+ letters)."""
    words = vendor.split()
    variants = {vendor.strip()}
    while words and words[-1].lower().strip(",") in _LEGAL_SUFFIXES:
        words = words[:-1]
    if words:
        variants.add(" ".join(words))
        if len(words[0]) >= 4 and words[0][:1].isupper():
            variants.add(words[0])
    return sorted((v for v in variants if v), key=len, reverse=True)


def redact(text: str | None, names: list[str], label: str) -> str | None:
    if not text:
        return text
    for name in names:
        text = re.sub(rf"\b{re.escape(name)}\b", label, text, flags=re.IGNORECASE)
    return text


def _blind_citation(citation, names: list[str], label: str, proposal: str, files: dict[str, str] | None = None):
    update = {"quote": redact(citation.quote, names, label)}
    if citation.document is not None:  # a later round's quote names its file: the proposal or an answer
        if files and citation.document in files:
            update["document"] = files[citation.document]
        else:
            update["document"] = f"{label}.pdf" if citation.document == proposal else f"{label} answer.pdf"
    return citation.model_copy(update=update)


def _round_files(rounds: list[RoundSummary], label: str) -> dict[str, str]:
    """Each round's file name -> its label: the proposal is '{label}.pdf', round N's answer '{label} answer N.pdf'."""
    return {r.file_name: f"{label}.pdf" if r.number == 1 else f"{label} answer {r.number}.pdf" for r in rounds}


def _blind_rounds(
    rounds: list[RoundSummary], names: list[str], label: str, files: dict[str, str]
) -> list[RoundSummary]:
    blinded = []
    for r in rounds:
        changes = [
            c.model_copy(update={"closed_by": [_blind_citation(q, names, label, "", files) for q in c.closed_by]})
            for c in r.changes
        ]
        blinded.append(
            r.model_copy(update={"file_name": files.get(r.file_name, f"{label} answer.pdf"), "changes": changes})
        )
    return blinded


def _blind_review(
    review: Review, names: list[str], label: str, proposal: str = "", files: dict[str, str] | None = None
) -> Review:
    findings = [
        f.model_copy(
            update={
                "rationale": redact(f.rationale, names, label),
                "clarification_question": redact(f.clarification_question, names, label),
                "citations": [_blind_citation(c, names, label, proposal, files) for c in f.citations],
            }
        )
        for f in review.findings
    ]
    return review.model_copy(
        update={
            "vendor_name": label,
            "document": review.document.model_copy(update={"file_name": f"{label}.pdf"}),
            "findings": findings,
        }
    )


def anonymize(entries: list[Entry]) -> tuple[list[Entry], dict[str, str]]:
    """Vendors become 'Vendor A, B, ...' in file-name order (not rank order, which would leak), in the
    entries and inside their reviews, with the vendor's name redacted from quotes, rationales and
    questions; returns the mapping label -> real name, to be kept apart from the blind outputs."""
    mapping: dict[str, str] = {}
    blinded = []
    for i, entry in enumerate(sorted(entries, key=lambda e: e.file_name)):
        label = blind_label(i)
        mapping[label] = entry.vendor
        names = name_variants(entry.vendor)
        if entry.review and entry.review.vendor_name:
            names = sorted({*names, *name_variants(entry.review.vendor_name)}, key=len, reverse=True)
        files = _round_files(entry.rounds, label)
        review = _blind_review(entry.review, names, label, entry.file_name, files) if entry.review else None
        blinded.append(
            entry.model_copy(
                update={
                    "vendor": label,
                    "file_name": f"{label}.pdf",
                    "file_names": [f"{label}.pdf"],
                    "review": review,
                    "error": redact(entry.error, names, label),
                    "rounds": _blind_rounds(entry.rounds, names, label, files),
                }
            )
        )
    return blinded, mapping
