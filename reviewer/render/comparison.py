"""The vendor comparison as CSV, XLSX, self-contained HTML and Markdown: pure functions of a Comparison."""

import io
from html import escape

from reviewer.comparison import Comparison, VendorRow
from reviewer.render.cells import append_xlsx_row, to_csv_text
from reviewer.render.escape import markdown_text

GRADE_SYMBOL = {"met": "met", "partial": "partial", "missing": "missing", "red_flag": "RED FLAG", None: "error"}
GRADE_COLOUR = {"met": "C6EFCE", "partial": "FFEB9C", "missing": "E7E6E6", "red_flag": "FFC7CE", None: "BFBFBF"}


def _grade(row: VendorRow, criterion_id: str) -> str:
    if row.status != "done":
        return "no review"
    grade = row.grades.get(criterion_id)
    return GRADE_SYMBOL[grade.value if grade else None]


def _rank(row: VendorRow) -> str:
    if row.rank is None:
        return "—"
    return f"{row.rank}=" if row.tied else str(row.rank)


def _score(row: VendorRow) -> str:
    if row.overall_score is None:
        return "—"
    return f"{row.overall_score:.1f}" + ("" if row.score_complete else " (incomplete)")


def matrix_header(c: Comparison) -> list[str]:
    return [
        "rank",
        "vendor",
        "file",
        "score",
        "verdict",
        "red flags",
        "unsupported",
        *[col.title for col in c.criteria],
        "status",
    ]


def matrix_rows(c: Comparison) -> list[list[str]]:
    return [
        [
            _rank(r),
            r.vendor,
            ", ".join(r.file_names) or r.file_name,
            _score(r),
            r.verdict or "—",
            str(r.red_flags),
            str(r.unsupported),
            *[_grade(r, col.id) for col in c.criteria],
            r.status if r.status == "done" else f"failed: {r.error}",
        ]
        for r in c.rows
    ]


def to_csv(c: Comparison) -> str:
    return to_csv_text(matrix_header(c), matrix_rows(c))


def to_markdown(c: Comparison) -> str:
    cell = markdown_text

    lines = [
        f"# Vendor comparison: {cell(c.rubric_title)}",
        "",
        f"Rubric `{c.rubric_id}` v{c.rubric_version}; {len(c.rows)} proposals"
        + ("; vendors anonymised" if c.anonymized else "")
        + f"; generated {c.generated_at:%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    if any(r.offline for r in c.rows):
        lines += ["> Some or all reviews come from the **offline grader** (no language model): use for triage.", ""]
    header = matrix_header(c)
    lines += ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in matrix_rows(c)]
    flags = [f for f in c.findings if f.grade is not None and f.grade.value == "red_flag"]
    if flags:
        lines += ["", "## Red flags", ""]
        lines += [
            f"- **{cell(f.vendor)}**, {cell(f.criterion)}: {cell(f.rationale)}"
            + (f" (p. {f.page}: “{cell(f.quote)}”)" if f.quote and f.verified else "")
            for f in flags
        ]
    return "\n".join(lines) + "\n"


STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2433}table{border-collapse:collapse}
th,td{border:1px solid #d5d9e0;padding:.35rem .5rem;font-size:.9rem;vertical-align:top}th{background:#f3f5f8}
td.met{background:#c6efce}td.partial{background:#ffeb9c}td.missing{background:#e7e6e6}td.red_flag{background:#ffc7ce}
td.error{background:#bfbfbf}details{margin:.3rem 0}.q{color:#444;font-style:italic}"""


def to_html(c: Comparison) -> str:
    e = escape
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Vendor comparison: {e(c.rubric_title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Vendor comparison: {e(c.rubric_title)}</h1>",
        f"<p>Rubric {e(c.rubric_id)} v{e(c.rubric_version)}; {len(c.rows)} proposals"
        + ("; vendors anonymised" if c.anonymized else "")
        + f"; generated {c.generated_at:%Y-%m-%d %H:%M} UTC.</p>",
        "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in matrix_header(c)) + "</tr>",
    ]
    for row, values in zip(c.rows, matrix_rows(c), strict=True):
        cells = []
        for i, value in enumerate(values):
            css = ""
            if 7 <= i < 7 + len(c.criteria) and row.status == "done":
                grade = row.grades.get(c.criteria[i - 7].id)
                css = f" class='{grade.value if grade else 'error'}'"
            anchor = f"<a href='#{e(row.vendor)}'>{e(value)}</a>" if i == 1 else e(value)
            cells.append(f"<td{css}>{anchor}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table><h2>Evidence</h2>")
    for row in c.rows:
        out.append(f"<h3 id='{e(row.vendor)}'>{e(row.vendor)}</h3>")
        for f in (f for f in c.findings if f.vendor == row.vendor):
            grade = GRADE_SYMBOL[f.grade.value if f.grade else None]
            quote = (
                f"<p class='q'>p. {f.page}: “{e(f.quote)}”{'' if f.verified else ' (not verified)'}</p>"
                if f.quote
                else ""
            )
            out.append(
                f"<details><summary>{e(f.criterion)}: {e(grade)}</summary><p>{e(f.rationale)}</p>{quote}"
                + (f"<p>Ask: {e(f.question)}</p>" if f.question else "")
                + "</details>"
            )
    out.append("</body></html>")
    return "\n".join(out)


def to_xlsx(c: Comparison) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    matrix = book.active
    matrix.title = "Comparison"
    append_xlsx_row(matrix, matrix_header(c))
    for row, values in zip(c.rows, matrix_rows(c), strict=True):
        append_xlsx_row(matrix, values)
        for j, col in enumerate(c.criteria):
            if row.status == "done":
                grade = row.grades.get(col.id)
                colour = GRADE_COLOUR[grade.value if grade else None]
                matrix.cell(row=matrix.max_row, column=8 + j).fill = PatternFill("solid", fgColor=colour)
    for sheet_row in matrix.iter_rows(min_row=1, max_row=1):
        for cell in sheet_row:
            cell.font = Font(bold=True)
    matrix.freeze_panes = "C2"
    matrix.auto_filter.ref = matrix.dimensions
    for j in range(1, matrix.max_column + 1):
        matrix.column_dimensions[get_column_letter(j)].width = 14 if j > 2 else 22

    details = book.create_sheet("Findings")
    append_xlsx_row(
        details, ["vendor", "criterion", "grade", "page", "quote", "verified", "rationale", "question", "flags"]
    )
    for f in c.findings:
        append_xlsx_row(
            details,
            [
                f.vendor,
                f.criterion,
                GRADE_SYMBOL[f.grade.value if f.grade else None],
                f.page,
                f.quote,
                "yes" if f.verified else "no",
                f.rationale,
                f.question,
                ", ".join(f.flags),
            ],
        )
    for cell in details[1]:
        cell.font = Font(bold=True)
    details.freeze_panes = "A2"
    details.auto_filter.ref = details.dimensions
    for letter, width in zip("ABCDEFGHI", (18, 28, 10, 6, 60, 9, 60, 50, 20), strict=True):
        details.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
