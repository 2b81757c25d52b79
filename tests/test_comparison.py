import csv
import io
import json
import re
from datetime import UTC, datetime

from reviewer.comparison import Entry, anonymize, blind_label, build_comparison, name_variants
from reviewer.render import comparison as render
from reviewer.render.html import render_html
from reviewer.render.markdown import render_markdown
from reviewer.render.slack import comparison_blocks, summary_blocks, summary_text
from reviewer.render.wording import OFFLINE_BANNER, OFFLINE_TITLE, plural
from reviewer.review import (
    Citation,
    DocumentInfo,
    Finding,
    FindingFlag,
    Grade,
    Review,
    RubricInfo,
    Usage,
    Verdict,
)


def review(score: float | None, grade: Grade = Grade.MET, vendor: str | None = None, quote: str = "") -> Review:
    return Review(
        created_at=datetime.now(UTC),
        document=DocumentInfo(file_name="p.pdf", sha256="0" * 64, pages=1),
        rubric=RubricInfo(id="r", version="1", title="R"),
        backend="test",
        offline=False,
        vendor_name=vendor,
        findings=[
            Finding(
                criterion_id="evaluation_first",
                title="Leads with evaluation",
                kind="vendor",
                weight=1,
                grade=grade,
                score=1.0,
                rationale=f"{vendor} says so." if vendor else "ok",
                citations=[Citation(page=1, quote=quote or "a verified quote here", verified=True, start=0, end=5)],
            )
        ],
        overall_score=score,
        score_complete=True,
        verdict=Verdict.STRONG,
        red_flag_count=int(grade is Grade.RED_FLAG),
        unsupported_count=0,
        error_count=0,
        usage=Usage(),
    )


def test_ranks_by_score_with_ties_shared_and_failures_unranked(rubric):
    entries = [
        Entry(vendor="B", file_name="b.pdf", review=review(70)),
        Entry(vendor="A", file_name="a.pdf", review=review(90)),
        Entry(vendor="C", file_name="c.pdf", review=review(70, Grade.RED_FLAG)),
        Entry(vendor="D", file_name="d.pdf", error="not_pdf: the file is not a PDF"),
    ]
    comparison = build_comparison(entries, rubric)
    rows = {r.vendor: r for r in comparison.rows}
    assert [r.vendor for r in comparison.rows] == ["A", "B", "C", "D"]
    assert (rows["A"].rank, rows["A"].tied) == (1, False)
    assert (rows["B"].rank, rows["B"].tied, rows["C"].rank, rows["C"].tied) == (2, True, 2, True)
    assert rows["D"].rank is None and rows["D"].status == "failed" and "not a PDF" in rows["D"].error
    assert rows["C"].red_flags == 1 and rows["C"].grades["evaluation_first"] is Grade.RED_FLAG
    csv_lines = render.to_csv(comparison).splitlines()
    assert csv_lines[2].startswith("2=,B") and csv_lines[3].startswith("2=,C")
    assert "failed: not_pdf" in csv_lines[4]


def test_anonymising_labels_by_file_name_and_redacts_the_vendor_from_quotes(rubric):
    entries = [
        Entry(
            vendor="Zeta Labs Ltd",
            file_name="zeta.pdf",
            review=review(50, vendor="Zeta Labs Ltd", quote="Zeta runs its own platform in production."),
        ),
        Entry(vendor="Alpha AI", file_name="alpha.pdf", review=review(90)),
    ]
    blinded, key = anonymize(entries)
    assert key == {"Vendor A": "Alpha AI", "Vendor B": "Zeta Labs Ltd"}
    zeta = next(e for e in blinded if e.vendor == "Vendor B")
    finding = zeta.review.findings[0]
    assert finding.citations[0].quote == "Vendor B runs its own platform in production."
    assert "Zeta" not in finding.rationale
    assert zeta.review.vendor_name == "Vendor B" and zeta.review.document.file_name == "Vendor B.pdf"
    everything = render.to_html(build_comparison(blinded, rubric)) + render.to_csv(build_comparison(blinded, rubric))
    assert "Zeta" not in everything and "Alpha" not in everything


def test_blind_labels_and_name_variants():
    assert [blind_label(i) for i in (0, 25, 26, 27)] == ["Vendor A", "Vendor Z", "Vendor AA", "Vendor AB"]
    assert name_variants("Northwind Analytics Ltd.") == ["Northwind Analytics Ltd.", "Northwind Analytics", "Northwind"]


def test_xlsx_has_a_colour_coded_matrix_and_a_findings_sheet_with_frozen_headers_and_filters(rubric):
    import io

    from openpyxl import load_workbook

    comparison = build_comparison([Entry(vendor="A", file_name="a.pdf", review=review(90, Grade.RED_FLAG))], rubric)
    book = load_workbook(io.BytesIO(render.to_xlsx(comparison)))
    matrix, findings = book["Comparison"], book["Findings"]
    assert matrix["B2"].value == "A" and matrix.freeze_panes == "C2" and matrix.auto_filter.ref
    assert matrix.cell(row=2, column=8).fill.fgColor.rgb.endswith("FFC7CE")  # red flag
    assert findings["A1"].value == "vendor" and findings.freeze_panes == "A2" and findings.auto_filter.ref
    assert findings["D2"].value == 1 and findings["E2"].value == "a verified quote here"


def test_html_comparison_is_self_contained(rubric):
    html = render.to_html(build_comparison([Entry(vendor="A", file_name="a.pdf", review=review(90))], rubric))
    assert "<script" not in html and "src=" not in html and "<link" not in html
    assert "<table>" in html and "a verified quote here" in html


def finding(criterion_id: str, grade: Grade | None, *quotes: str, error: str | None = None) -> Finding:
    return Finding(
        criterion_id=criterion_id,
        title=criterion_id.replace("_", " ").capitalize(),
        kind="vendor",
        weight=1,
        grade=grade,
        score=None if grade is None else 0.0,
        rationale=f"why {criterion_id}",
        citations=[Citation(page=i + 1, quote=q, verified=True, start=0, end=len(q)) for i, q in enumerate(quotes)],
        flags=[FindingFlag.GRADING_ERROR] if error else [],
        error=error,
    )


def review_of(*findings: Finding, score: float | None = 40.0, offline: bool = False) -> Review:
    return review(score).model_copy(
        update={
            "findings": list(findings),
            "offline": offline,
            "red_flag_count": sum(f.grade is Grade.RED_FLAG for f in findings),
            "score_complete": all(f.error is None for f in findings),
        }
    )


HELIX = review_of(
    finding("ip_ownership", Grade.RED_FLAG, "Models remain the property of Helix.", "Licensed for the term."),
    finding("data_safety", Grade.MET, "We will not use your data to train models for other customers."),
)


def red_flag_lines(markdown: str) -> list[str]:
    section = markdown.split("## Red flags", 1)[1]
    return [line for line in section.splitlines() if line.startswith("- ")]


def test_the_red_flag_list_has_one_line_per_red_flag_with_only_its_own_quote(rubric):
    md = render.to_markdown(build_comparison([Entry(vendor="Helix", file_name="h.pdf", review=HELIX)], rubric))
    lines = red_flag_lines(md)
    assert len(lines) == 1
    assert "Models remain the property of Helix." in lines[0]
    assert "We will not use your data" not in md.split("## Red flags", 1)[1]


def xlsx(comparison):
    import io

    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(render.to_xlsx(comparison)))


def test_xlsx_counts_are_numbers_quotes_are_one_line_and_text_wraps(rubric):
    broken = review_of(finding("ip_ownership", Grade.RED_FLAG, "Models remain\nthe property\nof Helix."))
    entries = [
        Entry(vendor="Helix", file_name="h.pdf", review=broken),
        Entry(vendor="Gone", file_name="g.pdf", error="not_pdf: the file is not a PDF"),
    ]
    book = xlsx(build_comparison(entries, rubric))
    matrix, findings = book["Comparison"], book["Findings"]
    header = [c.value for c in matrix[1]]
    helix, gone = ({h: c for h, c in zip(header, row, strict=False)} for row in matrix.iter_rows(min_row=2))
    assert helix["score"].value == 40.0 and helix["score"].data_type == "n"
    assert helix["red flags"].value == 1 and helix["unsupported"].value == 0
    assert gone["red flags"].value is None and gone["unsupported"].value is None and gone["score"].value is None
    assert gone["verdict"].value == "failed"
    assert findings["E2"].value == "Models remain the property of Helix."
    assert findings["G2"].alignment.wrap_text and helix["status"].alignment.wrap_text
    csv_rows = list(csv.DictReader(io.StringIO(render.to_csv(build_comparison(entries, rubric)))))
    assert csv_rows[1]["red flags"] == "" and csv_rows[1]["unsupported"] == ""


def test_every_output_of_an_offline_comparison_says_it_came_from_the_offline_grader(rubric):
    comparison = build_comparison([Entry(vendor="A", file_name="a.pdf", review=review_of(offline=True))], rubric)
    (row,) = csv.DictReader(io.StringIO(render.to_csv(comparison)))
    assert row["grader"].startswith("offline grader")
    banner = xlsx(comparison)["Comparison"]["A1"].value
    assert banner.startswith(OFFLINE_TITLE) and OFFLINE_BANNER in banner
    assert OFFLINE_BANNER in render.to_html(comparison) and OFFLINE_BANNER in render.to_markdown(comparison)
    model = build_comparison([Entry(vendor="A", file_name="a.pdf", review=review_of())], rubric)
    assert OFFLINE_TITLE not in render.to_html(model) + render.to_csv(model)
    assert xlsx(model)["Comparison"]["A1"].value == "rank"


def test_html_wraps_to_the_page_and_each_grade_links_to_its_evidence_shown_once(rubric):
    entries = [
        Entry(vendor="Acme", file_name="acme-1.pdf", review=HELIX),
        Entry(vendor="Acme", file_name="acme-2.pdf", review=review_of(finding("ip_ownership", Grade.MET, "Yours."))),
    ]
    page = render.to_html(build_comparison(entries, rubric))
    assert "table-layout:fixed" in page and "width:100%" in page and "overflow-wrap:anywhere" in page
    links = re.findall(r"<td class='[a-z_]+'><a href='#([^']+)'>", page)
    ids = re.findall(r" id='([^']+)'", page)
    assert len(ids) == len(set(ids)), "anchors are unique even when two vendors share a name"
    assert links and set(links) <= set(ids) and len(set(links)) == len(links)
    assert page.count("Models remain the property of Helix.") == 1
    assert page.count("<summary>Ip ownership") == 2  # one per vendor, not one per citation


def test_a_review_whose_every_criterion_failed_is_shown_as_failed_and_unscored(rubric):
    failed = review_of(finding("ip_ownership", None, error="the model timed out"), score=None)
    entries = [
        Entry(vendor="Down", file_name="d.pdf", review=failed),
        Entry(vendor="Up", file_name="u.pdf", review=review(80)),
    ]
    comparison = build_comparison(entries, rubric)
    down = next(r for r in comparison.rows if r.vendor == "Down")
    assert down.status == "failed" and "no criterion could be graded: the model timed out" in down.error
    assert down.rank is None and down.red_flags is None
    for text in (render.to_csv(comparison), render.to_markdown(comparison), render.to_html(comparison)):
        assert "no criterion could be graded" in text
    xlsx(comparison)
    blocks = json.dumps(comparison_blocks(comparison))
    assert "Down" in blocks and "no review" in blocks


def test_counts_are_worded_with_plural_rules(rubric):
    one = review_of(finding("ip_ownership", Grade.RED_FLAG, "Models remain the property of Helix."))
    one = one.model_copy(update={"document": one.document.model_copy(update={"pages": 1})})
    assert plural(1, "red flag") == "1 red flag" and plural(2, "red flag") == "2 red flags"
    assert summary_text(one).endswith("1 red flag")
    assert "(1 page," in render_markdown(one) and "(1 page)" in render_html(one)
    comparison = build_comparison([Entry(vendor="A", file_name="a.pdf", review=one)], rubric)
    assert "1 proposal;" in render.to_markdown(comparison)
    assert "1 red flag\n" in json.dumps(comparison_blocks(comparison)).replace("\\n", "\n")


def test_slack_short_reasons_end_at_a_word():
    rationale = "Pages 1 and 3 address this criterion, covering its metrics, accuracy and the acceptance tests. " * 4
    long = review_of(finding("ip_ownership", Grade.MET, "Yours.").model_copy(update={"rationale": rationale}))
    text = json.dumps(summary_blocks(long, None, "http://x"), ensure_ascii=False)
    reason = re.search(r"\*Ip ownership\*: ([^\\\"]*)…", text).group(1)
    assert 100 < len(reason) < 160
    assert reason.split()[-1].strip(",.") in {w.strip(",.") for w in rationale.split()}
    assert rationale.startswith(reason) and rationale[len(reason)] in " ,."
