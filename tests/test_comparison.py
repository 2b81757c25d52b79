from datetime import UTC, datetime

from reviewer.comparison import Entry, anonymize, blind_label, build_comparison, name_variants
from reviewer.render import comparison as render
from reviewer.review import (
    Citation,
    DocumentInfo,
    Finding,
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
