"""The clarification questions a buyer sends each vendor: a view model built from a Review (and the final
grades, when people have changed them), rendered as Markdown, DOCX or PDF with one numbered list per vendor.

Every question, title and vendor name came from a document or a model, so each format escapes it: the
vendor's copy must show the text as written, never run it as markup, a link or a field."""

import io
import re
from datetime import date
from typing import Literal
from xml.sax.saxutils import escape as xml_escape

from pydantic import BaseModel, Field

from reviewer.errors import BadInputError
from reviewer.render.escape import markdown_text, one_line
from reviewer.render.wording import question_for
from reviewer.review import Finding, Grade, Review

INSTRUCTIONS = "Please answer each question and cite the section of your proposal it concerns."
NO_QUESTIONS = "No open questions for this round."

# Characters XML 1.0 cannot carry (python-docx/lxml refuse them; reportlab's parser chokes on them).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class QuestionItem(BaseModel):
    criterion_id: str
    title: str
    question: str
    grade: str | None = Field(description="The grade the question follows from: the final grade, else the AI's.")
    page_refs: list[int] = Field(default_factory=list, description="Pages of the proposal the grade cited.")


class QuestionSet(BaseModel):
    vendor: str
    rubric_title: str
    round: int = Field(default=1, ge=1)
    items: list[QuestionItem]
    issued_on: date | None = None


def _effective_grade(finding: Finding, grades: dict[str, Grade]) -> Grade | None:
    return grades.get(finding.criterion_id, finding.grade)


def _parse_grades(review: Review, grades: dict[str, str] | None) -> dict[str, Grade]:
    known = {f.criterion_id for f in review.findings}
    parsed: dict[str, Grade] = {}
    for criterion_id, value in (grades or {}).items():
        if criterion_id not in known:
            raise BadInputError(f"final grade for unknown criterion '{criterion_id}'", code="unknown_criterion")
        try:
            parsed[criterion_id] = Grade(value)
        except ValueError:
            allowed = ", ".join(g.value for g in Grade)
            raise BadInputError(
                f"criterion '{criterion_id}': unknown grade '{value}' (use one of: {allowed})", code="unknown_grade"
            ) from None
    return parsed


def _proposal_pages(finding, review: Review) -> list[int]:
    """The proposal's own pages the grade cited. In a later round a citation names its file: the proposal is
    the first part of the combined document's name (uploaded names carry no '+'); answers' pages are left out."""
    proposal = review.document.file_name.split(" + ")[0]
    pages = set()
    for c in finding.verified_citations:
        if c.document is None:
            pages.add(c.page)
        elif c.document == proposal:
            pages.add(c.document_page or c.page)
    return sorted(pages)


def question_set_for(
    review: Review,
    vendor: str | None = None,
    grades: dict[str, str] | None = None,
    *,
    round: int = 1,
    issued_on: date | None = None,
) -> QuestionSet:
    """The open questions of `review`, in rubric order: every criterion whose final grade (from `grades`,
    by criterion id, else the AI's) is not met and that has a question to ask."""
    final = _parse_grades(review, grades)
    items = []
    for finding in review.findings:
        grade = _effective_grade(finding, final)
        question = question_for(finding, grade)
        if question is None:
            continue
        items.append(
            QuestionItem(
                criterion_id=finding.criterion_id,
                title=finding.title,
                question=question,
                grade=grade.value if grade else None,
                page_refs=_proposal_pages(finding, review),
            )
        )
    name = vendor or review.vendor_name or review.document.file_name
    return QuestionSet(vendor=name, rubric_title=review.rubric.title, round=round, items=items, issued_on=issued_on)


def _pages(item: QuestionItem) -> str:
    if not item.page_refs:
        return ""
    label = "page" if len(item.page_refs) == 1 else "pages"
    return f" (see {label} {', '.join(map(str, item.page_refs))} of your proposal)"


def _header(qs: QuestionSet) -> str:
    parts = [f"Rubric: {one_line(qs.rubric_title)}", f"Round {qs.round}"]
    if qs.issued_on:
        parts.append(f"Issued {qs.issued_on.isoformat()}")
    return " · ".join(parts)


def _title(qs: QuestionSet) -> str:
    return f"Clarification questions: {one_line(qs.vendor)}"


def _require(sets: list[QuestionSet]) -> None:
    if not sets:
        raise BadInputError("no question sets to render", code="no_questions")


def to_markdown(sets: list[QuestionSet]) -> str:
    _require(sets)
    blocks = []
    for qs in sets:
        out = [
            f"# Clarification questions: {markdown_text(qs.vendor)}",
            "",
            f"Rubric: {markdown_text(qs.rubric_title)} · Round {qs.round}"
            + (f" · Issued {qs.issued_on.isoformat()}" if qs.issued_on else ""),
            "",
            INSTRUCTIONS,
            "",
        ]
        if not qs.items:
            out.append(NO_QUESTIONS)
        for n, item in enumerate(qs.items, start=1):
            out.append(f"{n}. **{markdown_text(item.title)}**: {markdown_text(item.question)}{_pages(item)}")
        blocks.append("\n".join(out) + "\n")
    return "\n---\n\n".join(blocks)


def _xml_safe(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def to_docx(sets: list[QuestionSet]) -> bytes:
    from docx import Document as DocxDocument
    from docx.shared import Pt

    _require(sets)
    doc = DocxDocument()
    for index, qs in enumerate(sets):
        # python-docx writes text as XML text nodes: markup in it stays text; numbers are literal so
        # each vendor's list starts at 1 whatever the reader does with list styles.
        heading = doc.add_heading(_xml_safe(_title(qs)), level=1)
        heading.paragraph_format.page_break_before = index > 0
        doc.add_paragraph(_xml_safe(_header(qs)))
        doc.add_paragraph(INSTRUCTIONS)
        if not qs.items:
            doc.add_paragraph(NO_QUESTIONS)
        for n, item in enumerate(qs.items, start=1):
            paragraph = doc.add_paragraph()
            paragraph.paragraph_format.left_indent = Pt(18)
            paragraph.paragraph_format.first_line_indent = Pt(-18)
            paragraph.add_run(f"{n}. ")
            paragraph.add_run(_xml_safe(one_line(item.title))).bold = True
            paragraph.add_run(": " + _xml_safe(one_line(item.question)) + _pages(item))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _para_text(text: str) -> str:
    """Text for a reportlab Paragraph, which parses its input as XML-like markup."""
    return xml_escape(_xml_safe(one_line(text)))


def to_pdf(sets: list[QuestionSet]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import ListFlowable, ListItem, PageBreak, Paragraph, SimpleDocTemplate, Spacer

    _require(sets)
    styles = getSampleStyleSheet()
    story: list = []
    for index, qs in enumerate(sets):
        if index:
            story.append(PageBreak())
        story += [
            Paragraph(_para_text(_title(qs)), styles["Heading1"]),
            Paragraph(_para_text(_header(qs)), styles["Normal"]),
            Spacer(1, 6),
            Paragraph(_para_text(INSTRUCTIONS), styles["Normal"]),
            Spacer(1, 12),
        ]
        if not qs.items:
            story.append(Paragraph(_para_text(NO_QUESTIONS), styles["Normal"]))
            continue
        entries = [
            ListItem(
                Paragraph(
                    f"<b>{_para_text(item.title)}</b>: {_para_text(item.question + _pages(item))}",
                    styles["Normal"],
                )
            )
            for item in qs.items
        ]
        story.append(ListFlowable(entries, bulletType="1", bulletFormat="%s.", start=1, leftIndent=18))
    out = io.BytesIO()
    title = "Clarification questions"
    SimpleDocTemplate(out, pagesize=A4, title=title, author="", subject="", creator="", producer="").build(story)
    return out.getvalue()


QuestionFormat = Literal["md", "docx", "pdf"]
MEDIA_TYPES: dict[str, str] = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def render_questions(sets: list[QuestionSet], format: QuestionFormat) -> bytes:
    """The question sets as one document's bytes (Markdown as UTF-8)."""
    if format == "md":
        return to_markdown(sets).encode("utf-8")
    return to_docx(sets) if format == "docx" else to_pdf(sets)
