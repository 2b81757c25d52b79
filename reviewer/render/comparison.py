"""The vendor comparison as CSV, XLSX, self-contained HTML and Markdown: pure functions of a Comparison."""

import io
import re
from html import escape

from reviewer.comparison import Comparison, FindingRow, PanelCell, VendorRow
from reviewer.render.cells import append_xlsx_row, new_workbook, to_csv_text
from reviewer.render.escape import markdown_text
from reviewer.render.wording import offline_banner, plural

GRADE_SYMBOL = {"met": "met", "partial": "partial", "missing": "missing", "red_flag": "RED FLAG", None: "error"}
GRADE_COLOUR = {"met": "C6EFCE", "partial": "FFEB9C", "missing": "E7E6E6", "red_flag": "FFC7CE", None: "BFBFBF"}
FIRST_GRADE_COLUMN = 7  # 0-based index of the first criterion column in matrix_header
Cell = str | int | float | None


def panel_note(cell: PanelCell) -> str:
    """'consensus; 2 evaluators; disputed', or 'unconfirmed' for a grade nobody has confirmed."""
    parts = ["unconfirmed" if cell.source == "ai" else cell.source]
    if cell.evaluators:
        parts.append(plural(cell.evaluators, "evaluator"))
    if cell.disagreement:
        parts.append("disputed")
    return "; ".join(parts)


def _grade(row: VendorRow, criterion_id: str) -> str:
    if criterion_id not in row.grades:
        return "no review"
    grade = row.grades[criterion_id]
    text = GRADE_SYMBOL[grade.value if grade else None]
    cell = row.panel.get(criterion_id)
    return f"{text} ({panel_note(cell)})" if cell is not None else text


def _rank(row: VendorRow) -> str:
    if row.rank is None:
        return "—"
    return f"{row.rank}=" if row.tied else str(row.rank)


def _status(row: VendorRow) -> str:
    if row.status != "done":
        return f"failed: {row.error}"
    text = "done" if row.score_complete else "done (score incomplete: some criteria could not be graded)"
    if row.round and row.round > 1:
        text += f"; round {row.round} (with the vendor's answers)"
    if row.excluded:
        return f"{text}; excluded from the ranking: fails mandatory {', '.join(row.failed_mandatory)}"
    if row.failed_mandatory:
        return f"{text}; fails mandatory {', '.join(row.failed_mandatory)}"
    return text


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


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


def matrix_values(c: Comparison) -> list[list[Cell]]:
    """The matrix with numbers as numbers; a proposal without a scored review has empty counts."""
    return [
        [
            _rank(r),
            r.vendor,
            ", ".join(r.file_names) or r.file_name,
            r.overall_score,
            r.verdict or ("failed" if r.status != "done" else None),
            r.red_flags,
            r.unsupported,
            *[_grade(r, col.id) for col in c.criteria],
            _status(r),
        ]
        for r in c.rows
    ]


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def matrix_rows(c: Comparison) -> list[list[str]]:
    return [[_text(v) for v in row] for row in matrix_values(c)]


def _quotes(f: FindingRow) -> str | None:
    """A finding's quotes in one line: the quote alone, or each with its page when there are several."""
    if len(f.evidence) == 1:
        return _one_line(f.evidence[0].quote)
    return "; ".join(f"“{_one_line(q.quote)}” ({_one_line(q.where)})" for q in f.evidence) or None


def _pages(f: FindingRow) -> Cell:
    """The evidence's pages: a number for one quote of the proposal; a file and page for a round's quote."""
    if len(f.evidence) == 1 and not f.evidence[0].document:
        return f.evidence[0].page
    return ", ".join(q.where if q.document else str(q.page) for q in f.evidence) or None


def _offline_count(c: Comparison) -> int:
    return sum(1 for r in c.rows if r.offline)


def _grader(row: VendorRow) -> str | None:
    if row.offline:
        return "offline grader (no language model)"
    return "language model" if row.status == "done" else None


def to_csv(c: Comparison) -> str:
    """The matrix, with a 'grader' column saying per proposal whether the offline grader graded it."""
    rows = [[*values, _grader(row) or ""] for row, values in zip(c.rows, matrix_rows(c), strict=True)]
    return to_csv_text([*matrix_header(c), "grader"], rows)


def _red_flags(c: Comparison) -> list[FindingRow]:
    return [f for f in c.findings if f.grade is not None and f.grade.value == "red_flag"]


def to_markdown(c: Comparison) -> str:
    cell = markdown_text

    lines = [
        f"# Vendor comparison: {cell(c.rubric_title)}",
        "",
        f"Rubric `{c.rubric_id}` v{c.rubric_version}; {plural(len(c.rows), 'proposal')}"
        + ("; vendors anonymised" if c.anonymized else "")
        + f"; generated {c.generated_at:%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    if offline := _offline_count(c):
        lines += [f"> **{offline_banner(offline, len(c.rows))}**", ""]
    header = matrix_header(c)
    lines += ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in matrix_rows(c)]
    flags = _red_flags(c)
    if flags:  # one line per red-flag finding, with the quote it stands on first
        lines += ["", "## Red flags", ""]
        for f in flags:
            quote = next((q for q in f.evidence if q.verified), None)
            lines.append(
                f"- **{cell(f.vendor)}**, {cell(f.criterion)}: {cell(f.rationale)}"
                + (f" ({cell(quote.where)}: “{cell(quote.quote)}”)" if quote else "")
            )
    return "\n".join(lines) + "\n"


STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2433}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border:1px solid #d5d9e0;padding:.35rem .5rem;font-size:.9rem;vertical-align:top;overflow-wrap:anywhere;
hyphens:auto}th{background:#f3f5f8}
td.met{background:#c6efce}td.partial{background:#ffeb9c}td.missing{background:#e7e6e6}td.red_flag{background:#ffc7ce}
td.error{background:#bfbfbf}td a{color:inherit}details{margin:.3rem 0}.q{color:#444;font-style:italic}
.banner{background:#fff6d6;border:1px solid #e8cf6d;padding:.6rem 1rem;border-radius:6px}
:target{outline:3px solid #5b8def}"""


def anchor(key: str, criterion_id: str | None = None) -> str:
    """The id of a vendor's evidence section, or of one of its findings: unique per row, valid in a URL."""
    if criterion_id is None:
        return key
    return f"{key}-" + re.sub(r"[^A-Za-z0-9_-]", "-", criterion_id)


def to_html(c: Comparison) -> str:
    e = escape
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Vendor comparison: {e(c.rubric_title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Vendor comparison: {e(c.rubric_title)}</h1>",
    ]
    if offline := _offline_count(c):
        out.append(f"<p class='banner'><strong>{e(offline_banner(offline, len(c.rows)))}</strong></p>")
    out += [
        f"<p>Rubric {e(c.rubric_id)} v{e(c.rubric_version)}; {plural(len(c.rows), 'proposal')}"
        + ("; vendors anonymised" if c.anonymized else "")
        + f"; generated {c.generated_at:%Y-%m-%d %H:%M} UTC.</p>",
        "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in matrix_header(c)) + "</tr>",
    ]
    criteria_columns = range(FIRST_GRADE_COLUMN, FIRST_GRADE_COLUMN + len(c.criteria))
    for row, values in zip(c.rows, matrix_rows(c), strict=True):
        cells = []
        for i, value in enumerate(values):
            css, content = "", e(value)
            if i == 1:
                content = f"<a href='#{anchor(row.key)}'>{e(value)}</a>"
            elif i in criteria_columns and row.grades:
                criterion_id = c.criteria[i - FIRST_GRADE_COLUMN].id
                grade = row.grades.get(criterion_id)
                css = f" class='{grade.value if grade else 'error'}'"
                if criterion_id in row.grades:
                    content = f"<a href='#{anchor(row.key, criterion_id)}'>{e(value)}</a>"
            cells.append(f"<td{css}>{content}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table><h2>Evidence</h2>")
    for row in c.rows:
        out.append(f"<h3 id='{anchor(row.key)}'>{e(row.vendor)}</h3>")
        if row.status != "done":
            out.append(f"<p>{e(_status(row))}</p>")
        for f in (f for f in c.findings if f.key == row.key):
            grade = GRADE_SYMBOL[f.grade.value if f.grade else None]
            quotes = "".join(
                f"<p class='q'>{e(q.where)}: “{e(q.quote)}”{'' if q.verified else ' (not verified)'}</p>"
                for q in f.evidence
            )
            out.append(
                f"<details id='{anchor(row.key, f.criterion_id)}'><summary>{e(f.criterion)}: {e(grade)}</summary>"
                f"<p>{e(f.rationale)}</p>{quotes}"
                + (f"<p>Ask: {e(f.question)}</p>" if f.question else "")
                + "</details>"
            )
    out.append("</body></html>")
    return "\n".join(out)


def to_xlsx(c: Comparison) -> bytes:
    """Two sheets: the matrix (numbers stored as numbers, colour-coded grades) and every finding with its
    quotes on one line each; text cells wrap. An offline run opens with a banner row above the header."""
    book = new_workbook()  # first: it decides how openpyxl is imported
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wrap = Alignment(wrap_text=True, vertical="top")
    matrix = book.active
    matrix.title = "Comparison"
    header = [*matrix_header(c), "grader"]
    if offline := _offline_count(c):
        append_xlsx_row(matrix, [offline_banner(offline, len(c.rows))])
        matrix.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        banner = matrix.cell(row=1, column=1)
        banner.font = Font(bold=True)
        banner.fill = PatternFill("solid", fgColor="FFF6D6")
        banner.alignment = wrap
        matrix.row_dimensions[1].height = 45
    header_row = matrix.max_row + 1 if offline else 1
    append_xlsx_row(matrix, header)
    for row, values in zip(c.rows, matrix_values(c), strict=True):
        append_xlsx_row(matrix, [*values, _grader(row)])
        r = matrix.max_row
        matrix.cell(row=r, column=4).number_format = "0.0"
        for j, col in enumerate(c.criteria):
            if col.id in row.grades:
                grade = row.grades[col.id]
                colour = GRADE_COLOUR[grade.value if grade else None]
                matrix.cell(row=r, column=FIRST_GRADE_COLUMN + 1 + j).fill = PatternFill("solid", fgColor=colour)
    for sheet_row in matrix.iter_rows(min_row=header_row):
        for cell in sheet_row:
            cell.alignment = wrap
    for cell in matrix[header_row]:
        cell.font = Font(bold=True)
    matrix.freeze_panes = f"C{header_row + 1}"
    matrix.auto_filter.ref = f"A{header_row}:{get_column_letter(len(header))}{matrix.max_row}"
    for j in range(1, matrix.max_column + 1):
        matrix.column_dimensions[get_column_letter(j)].width = 14 if j > 2 else 22

    details = book.create_sheet("Findings")
    append_xlsx_row(
        details,
        ["vendor", "criterion", "grade", "page", "quote", "verified", "rationale", "question", "flags"]
        + (["grade source"] if c.assessed else []),
    )
    for f in c.findings:
        append_xlsx_row(
            details,
            [
                f.vendor,
                f.criterion,
                GRADE_SYMBOL[f.grade.value if f.grade else None],
                _pages(f),
                _quotes(f),
                ("yes" if all(q.verified for q in f.evidence) else "no") if f.evidence else None,
                _one_line(f.rationale),
                _one_line(f.question) or None,
                ", ".join(f.flags),
                *([panel_note(f.panel) if f.panel else None] if c.assessed else []),
            ],
        )
    for sheet_row in details.iter_rows(min_row=2):
        for cell in sheet_row:
            cell.alignment = wrap
    for cell in details[1]:
        cell.font = Font(bold=True)
    details.freeze_panes = "A2"
    details.auto_filter.ref = details.dimensions
    for letter, width in zip("ABCDEFGHI", (18, 28, 10, 6, 60, 9, 60, 50, 20), strict=True):
        details.column_dimensions[letter].width = width
    if c.audit:
        audit = book.create_sheet("Audit")
        append_xlsx_row(audit, ["when (UTC)", "vendor", "who", "what", "criterion", "change"])
        for line in c.audit:
            append_xlsx_row(
                audit,
                [f"{line.at:%Y-%m-%d %H:%M:%S}", line.vendor, line.actor, line.action, line.criterion_id, line.change],
            )
        for cell in audit[1]:
            cell.font = Font(bold=True)
        for letter, width in zip("ABCDEF", (20, 22, 14, 18, 24, 70), strict=True):
            audit.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
