"""The clarification questions sent to vendors: which questions go out, in what order and numbering, and
that each format (Markdown, DOCX, PDF) shows document- and model-derived text as written."""

import asyncio
import io
import zipfile
from datetime import date

import docx
import pytest
from markdown_it import MarkdownIt
from pypdf import PdfReader

from reviewer.errors import BadInputError
from reviewer.grading.base import CriterionFailure, RawCitation, RawFinding, RawGrading
from reviewer.pipeline import review_document
from reviewer.render.questions import (
    INSTRUCTIONS,
    NO_QUESTIONS,
    QuestionItem,
    QuestionSet,
    question_set_for,
    to_docx,
    to_markdown,
    to_pdf,
)
from reviewer.review import Grade
from tests.conftest import make_document
from tests.fakes import ScriptedBackend

PAGE_1 = "Northwind Analytics proposal. We will agree an evaluation set of 1,500 claims before the contract."
PAGE_2 = "Acceptance requires accuracy of at least 92% on the agreed evaluation set."
QUOTE_1 = "We will agree an evaluation set of 1,500 claims before the contract."
QUOTE_2 = "Acceptance requires accuracy of at least 92% on the agreed evaluation set."
HOSTILE = "<script>alert(1)</script> **bold** =cmd"


def make_review(rubric, *, vendor_name=None, data_safety_question="Where is our data stored?"):
    """evaluation_first and the rest met (verified); operated_own_product failed; data_safety missing;
    acceptance_criteria partial with a verified quote on page 2. Findings arrive in reverse rubric order."""
    findings = {
        c.id: RawFinding(
            criterion_id=c.id, grade=Grade.MET, rationale="ok", citations=[RawCitation(page=1, quote=QUOTE_1)]
        )
        for c in rubric.criteria
    }
    findings["data_safety"] = RawFinding(
        criterion_id="data_safety",
        grade=Grade.MISSING,
        rationale="Not addressed.",
        clarification_question=data_safety_question,
    )
    findings["acceptance_criteria"] = RawFinding(
        criterion_id="acceptance_criteria",
        grade=Grade.PARTIAL,
        rationale="A threshold, no procedure.",
        citations=[RawCitation(page=2, quote=QUOTE_2)],
        clarification_question="Who runs the acceptance test?",
    )
    del findings["operated_own_product"]
    grading = RawGrading(
        findings=list(reversed(findings.values())),
        failures=[CriterionFailure(criterion_id="operated_own_product", reason="model timed out")],
        vendor_name=vendor_name,
    )
    document = make_document(PAGE_1, PAGE_2, file_name="northwind.pdf")
    return asyncio.run(review_document(document, rubric, ScriptedBackend(grading)))


def ids(question_set: QuestionSet) -> list[str]:
    return [item.criterion_id for item in question_set.items]


def test_open_questions_are_the_findings_not_met_in_rubric_order(rubric):
    qs = question_set_for(make_review(rubric), vendor="Northwind", issued_on=date(2026, 12, 2))
    assert ids(qs) == ["operated_own_product", "data_safety", "acceptance_criteria"]
    failed, missing, partial = qs.items
    assert failed.grade is None and failed.question.startswith("Please describe how your proposal addresses: ")
    assert failed.title in failed.question
    assert (missing.grade, missing.question, missing.page_refs) == ("missing", "Where is our data stored?", [])
    assert (partial.grade, partial.question, partial.page_refs) == ("partial", "Who runs the acceptance test?", [2])
    assert (qs.vendor, qs.round, qs.rubric_title) == ("Northwind", 1, rubric.title)


def test_final_grades_override_the_ai_grade_both_ways(rubric):
    review = make_review(rubric)
    grades = {"data_safety": "met", "operated_own_product": "met", "evaluation_first": "partial"}
    qs = question_set_for(review, grades=grades)
    assert ids(qs) == ["evaluation_first", "acceptance_criteria"]
    downgraded = qs.items[0]
    assert downgraded.grade == "partial"
    assert downgraded.question == f"Please describe how your proposal addresses: {downgraded.title}."
    assert downgraded.page_refs == [1]


@pytest.mark.parametrize(
    ("grades", "code"),
    [({"no_such_criterion": "met"}, "unknown_criterion"), ({"data_safety": "excellent"}, "unknown_grade")],
)
def test_a_final_grade_that_does_not_fit_the_review_is_refused(rubric, grades, code):
    with pytest.raises(BadInputError) as caught:
        question_set_for(make_review(rubric), grades=grades)
    assert caught.value.code == code and next(iter(grades)) in caught.value.message


def test_the_vendor_is_the_given_name_else_the_graded_name_else_the_file(rubric):
    assert question_set_for(make_review(rubric, vendor_name="Graded Co"), vendor="Given Co").vendor == "Given Co"
    assert question_set_for(make_review(rubric, vendor_name="Graded Co")).vendor == "Graded Co"
    assert question_set_for(make_review(rubric)).vendor == "northwind.pdf"


def two_vendors(rubric) -> list[QuestionSet]:
    review = make_review(rubric)
    first = question_set_for(review, vendor="Northwind", round=2, issued_on=date(2026, 12, 2))
    second = question_set_for(review, vendor="Contoso", grades={"data_safety": "met"}, issued_on=date(2026, 12, 2))
    return [first, second]


def test_markdown_has_one_numbered_list_per_vendor_with_its_header(rubric):
    text = to_markdown(two_vendors(rubric))
    tokens = MarkdownIt("commonmark").parse(text)
    lists = [t for t in tokens if t.type == "ordered_list_open"]
    assert len(lists) == 2 and all(t.attrGet("start") is None for t in lists)  # both start at 1
    items_per_list, count = [], 0
    for t in tokens:
        if t.type == "list_item_open":
            count += 1
        elif t.type == "ordered_list_close":
            items_per_list.append(count)
            count = 0
    assert items_per_list == [3, 2]
    assert "Round 2 · Issued 2026-12-02" in text and "Round 1 · Issued 2026-12-02" in text
    assert text.count(INSTRUCTIONS) == 2
    assert "2. **Data safety" not in text.split("Contoso")[1]


def docx_paragraphs(data: bytes) -> list:
    return docx.Document(io.BytesIO(data)).paragraphs


def test_docx_numbers_each_vendors_questions_from_one_on_its_own_page(rubric):
    sets = two_vendors(rubric)
    paragraphs = docx_paragraphs(to_docx(sets))
    headings = [p for p in paragraphs if p.style.name == "Heading 1"]
    assert [h.text for h in headings] == ["Clarification questions: Northwind", "Clarification questions: Contoso"]
    assert [bool(h.paragraph_format.page_break_before) for h in headings] == [False, True]
    numbered = [p.text for p in paragraphs if p.text[:1].isdigit()]
    first = sets[0].items
    assert numbered[:3] == [
        f"1. {first[0].title}: {first[0].question}",
        f"2. {first[1].title}: {first[1].question}",
        f"3. {first[2].title}: {first[2].question} (see page 2 of your proposal)",
    ]
    assert [t.split(".")[0] for t in numbered[3:]] == ["1", "2"]
    assert sum(p.text == INSTRUCTIONS for p in paragraphs) == 2


def pdf_pages(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def test_pdf_puts_each_vendor_on_its_own_page_with_numbered_questions(rubric):
    sets = two_vendors(rubric)
    first, second = pdf_pages(to_pdf(sets))
    assert "Northwind" in first and "Contoso" not in first
    assert "Contoso" in second and "Northwind" not in second
    for page, qs in ((first, sets[0]), (second, sets[1])):
        assert INSTRUCTIONS in page and qs.rubric_title in page
        positions = [page.index(f"{n}. {item.title}") for n, item in enumerate(qs.items, start=1)]
        assert positions == sorted(positions)
    assert (
        "Who runs the acceptance test? (see page 2 of your proposal)" in first
        and "Round 2" in first
        and "Round 1" in second
    )


def test_a_vendor_without_open_questions_is_told_so(rubric):
    everything_met = {f.criterion_id: "met" for f in make_review(rubric).findings}
    qs = question_set_for(make_review(rubric), vendor="Acme", grades=everything_met)
    assert qs.items == []
    assert NO_QUESTIONS in to_markdown([qs])
    assert NO_QUESTIONS in [p.text for p in docx_paragraphs(to_docx([qs]))]
    assert NO_QUESTIONS in pdf_pages(to_pdf([qs]))[0]


def test_nothing_to_render_is_an_error():
    for render in (to_markdown, to_docx, to_pdf):
        with pytest.raises(BadInputError):
            render([])


def hostile_set() -> QuestionSet:
    """Markup in every field, and a control character XML cannot carry (lxml would refuse the DOCX)."""
    return QuestionSet(
        vendor="<b>Evil</b> =HYPERLINK(1)",
        rubric_title="[r](javascript:x)",
        items=[QuestionItem(criterion_id="c", title="**T**", question=HOSTILE + "\x01", grade="missing")],
    )


def test_markup_in_questions_stays_inert_in_markdown():
    html = MarkdownIt("commonmark").render(to_markdown([hostile_set()]))
    assert "<script" not in html and "<strong>bold" not in html and "<b>" not in html and "href" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; **bold** =cmd" in html
    assert "<strong>**T**</strong>" in html


def test_markup_in_questions_stays_inert_in_docx():
    data = to_docx([hostile_set()])
    texts = [p.text for p in docx_paragraphs(data)]
    assert "Clarification questions: <b>Evil</b> =HYPERLINK(1)" in texts
    assert f"1. **T**: {HOSTILE}" in texts
    body = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert "fldSimple" not in body and "instrText" not in body and "hyperlink" not in body


def test_markup_in_questions_stays_inert_in_pdf():
    data = to_pdf([hostile_set()])
    (page,) = pdf_pages(data)
    assert "<b>Evil</b> =HYPERLINK(1)" in page and "[r](javascript:x)" in page
    assert f"1. **T**: {HOSTILE}" in page
    assert "/Annots" not in PdfReader(io.BytesIO(data)).pages[0]


def test_reports_ask_the_vendor_what_the_questions_document_asks_once_the_panel_decided(rubric):
    from datetime import UTC, datetime

    from reviewer.assessment import Panel, final_review
    from reviewer.render.html import render_html
    from reviewer.render.markdown import render_markdown
    from reviewer.render.slack import summary_blocks
    from reviewer.review import Consensus

    def decided(criterion_id: str, grade: Grade) -> Consensus:
        at = datetime(2026, 12, 2, tzinfo=UTC)
        return Consensus(
            review_id="r", criterion_id=criterion_id, grade=grade, reason="agreed", lead="lead", created_at=at
        )

    # the panel settles acceptance_criteria as met and downgrades evaluation_first, which the grader met
    panel = Panel(consensus=[decided("acceptance_criteria", Grade.MET), decided("evaluation_first", Grade.PARTIAL)])
    review = final_review(make_review(rubric), panel)
    sent = {item.criterion_id: item.question for item in question_set_for(review).items}
    assert "acceptance_criteria" not in sent and "evaluation_first" in sent

    markdown = render_markdown(review)
    listed = markdown[markdown.index("## Questions to send the vendor") :].split("\n---\n")[0]
    numbered = [line for line in listed.splitlines() if line[:1].isdigit()]
    assert len(numbered) == len(sent) and "Who runs the acceptance test?" not in markdown
    assert sent["evaluation_first"] in listed and f"**Ask the vendor:** {sent['evaluation_first']}" in markdown
    html = render_html(review)
    assert "Who runs the acceptance test?" not in html and sent["evaluation_first"] in html
    slack = str(summary_blocks(review, "r", "http://127.0.0.1:8000"))
    assert "Who runs the acceptance test?" not in slack and sent["evaluation_first"] in slack
