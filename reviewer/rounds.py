"""Clarification rounds: the vendor's answers graded together with the proposal, and what changed.

A round after the first grades one combined Document: the proposal's pages, then each answer's pages in
round order, numbered on after the proposal's. The pipeline verifies every quote against that combined
text as usual; `attribute_citations` then says, for each citation, which file it is in and on which of
that file's own pages. `round_changes` compares two rounds criterion by criterion. All pure functions."""

import hashlib

from pydantic import BaseModel, Field

from reviewer.documents import Document
from reviewer.review import Citation, Grade, Review, Verdict


class PageSource(BaseModel):
    """Where one page of a combined document came from."""

    document: str
    page: int = Field(ge=1)


class CombinedDocument(BaseModel):
    document: Document
    sources: list[PageSource] = Field(description="sources[i] is where combined page i + 1 came from.")

    def source_of(self, page: int) -> PageSource | None:
        return self.sources[page - 1] if 1 <= page <= len(self.sources) else None


def distinct_name(name: str, taken: set[str], number: int) -> str:
    """A file name no earlier part uses (an answer may be sent under the proposal's own name)."""
    if name not in taken:
        return name
    return f"{name} (round {number})"


def combine_documents(original: Document, answers: list[Document]) -> CombinedDocument:
    """The proposal followed by each answer (answers[0] is round 2's), pages renumbered in one sequence."""
    pages = []
    sources: list[PageSource] = []
    taken: set[str] = set()
    warnings = []
    for number, part in enumerate([original, *answers], start=1):
        name = distinct_name(part.file_name, taken, number)
        taken.add(name)
        warnings += part.warnings
        for page in part.pages:
            pages.append(page.model_copy(update={"number": len(pages) + 1}))
            sources.append(PageSource(document=name, page=page.number))
    digest = hashlib.sha256("".join(p.sha256 for p in [original, *answers]).encode()).hexdigest()
    combined = Document(
        file_name=" + ".join(dict.fromkeys(s.document for s in sources)),
        sha256=digest,
        page_count=len(pages),
        pages=pages,
        source=original.source,
        pagination=original.pagination,
        warnings=warnings,
    )
    return CombinedDocument(document=combined, sources=sources)


def attribute_citation(citation: Citation, combined: CombinedDocument) -> Citation:
    """The citation named by the file it is in and that file's own page."""
    source = combined.source_of(citation.page)
    if source is None:
        return citation
    return citation.model_copy(update={"document": source.document, "document_page": source.page})


def attribute_citations(review: Review, combined: CombinedDocument) -> Review:
    """Each citation of a review of `combined` named by its file and that file's own page."""
    findings = [
        f.model_copy(update={"citations": [attribute_citation(c, combined) for c in f.citations]})
        for f in review.findings
    ]
    return review.model_copy(update={"findings": findings})


class CriterionChange(BaseModel):
    """One criterion from one round to the next (final grades of each round)."""

    criterion_id: str
    title: str
    previous_grade: Grade | None
    current_grade: Grade | None
    previous_score: float | None = Field(description="Points counted in the earlier round, 0..1.")
    current_score: float | None
    score_change: float | None = Field(description="current_score - previous_score; None if either is missing.")
    changed: bool = Field(description="The grade or the points differ between the rounds.")
    closed_by: list[Citation] = Field(
        default_factory=list,
        description="When the points rose: the new round's verified quotes from the answer that closed the gap.",
    )


def round_changes(previous: Review, current: Review, *, answer_document: str) -> list[CriterionChange]:
    """Per criterion of `current`, what changed since `previous`; `closed_by` lists the current round's
    verified quotes from `answer_document` (the round's answer) when the criterion gained points."""
    before = {f.criterion_id: f for f in previous.findings}
    changes = []
    for finding in current.findings:
        earlier = before.get(finding.criterion_id)
        previous_score = earlier.score if earlier else None
        delta = None
        if previous_score is not None and finding.score is not None:
            delta = round(finding.score - previous_score, 4)
        closed_by = []
        if delta is not None and delta > 0:
            closed_by = [c for c in finding.verified_citations if c.document == answer_document]
        changes.append(
            CriterionChange(
                criterion_id=finding.criterion_id,
                title=finding.title,
                previous_grade=earlier.grade if earlier else None,
                current_grade=finding.grade,
                previous_score=previous_score,
                current_score=finding.score,
                score_change=delta,
                changed=earlier is None or earlier.grade != finding.grade or previous_score != finding.score,
                closed_by=closed_by,
            )
        )
    return changes


class RoundSummary(BaseModel):
    """One round as reports show it: its score and verdict, and per criterion what changed since the last
    done round before it (`compared_with`). Round 1 is the proposal alone and has no changes."""

    number: int
    file_name: str
    status: str
    overall_score: float | None = None
    verdict: Verdict | None = None
    compared_with: int | None = Field(default=None, description="The earlier round the changes are measured from.")
    score_change: float | None = Field(default=None, description="Overall score change since `compared_with`.")
    changes: list[CriterionChange] = Field(default_factory=list)
