"""The compliance matrix of an RFP's rubric: one row per requirement (reference, text, mandatory or not; a
criterion grouping several related requirements gives each its own row) and,
per vendor, compliant / partial / non-compliant / not addressed with the page and quote it rests on. Pure
functions of a Comparison; every cell goes through render/cells.py."""

import io

from reviewer.comparison import Comparison, CriterionColumn, FindingRow
from reviewer.render.cells import append_xlsx_row, new_workbook, to_csv_text

COMPLIANCE = {
    "met": "compliant",
    "partial": "partial",
    "red_flag": "non-compliant",
    "missing": "not addressed",
    None: "not assessed",
}
COLOUR = {
    "compliant": "C6EFCE",
    "partial": "FFEB9C",
    "non-compliant": "FFC7CE",
    "not addressed": "E7E6E6",
    "not assessed": "BFBFBF",
}


def is_rfp_rubric(c: Comparison) -> bool:
    """A rubric taken from an RFP (its criteria carry clause references or mandatory flags)."""
    return any(col.reference or col.mandatory for col in c.criteria)


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _evidence(f: FindingRow | None) -> str:
    if f is None or not f.evidence:
        return ""
    return "; ".join(
        f"p. {q.page}: “{_one_line(q.quote)}”" + ("" if q.verified else " (not verified)") for q in f.evidence
    )


def _requirements(col: CriterionColumn) -> list[tuple[str, str, bool]]:
    """(reference, text, mandatory) of each RFP requirement the criterion grades: its members when it groups
    several (each keeps its own clause and strength), else the criterion itself."""
    if col.members:
        return [(m.reference or "", _one_line(m.text), m.strength == "must") for m in col.members]
    return [(col.reference or "", _one_line(col.requirement or col.title), col.mandatory)]


def compliance_rows(c: Comparison) -> tuple[list[str], list[list[str | None]]]:
    """One row per requirement; the requirements of a grouped criterion share its compliance and evidence, and
    the last column names the criterion that graded them."""
    vendors = [row for row in c.rows if row.status == "done"]
    header = ["reference", "requirement", "mandatory"]
    for row in vendors:
        header += [row.vendor, f"{row.vendor}: evidence"]
    header.append("graded as")
    by_cell = {(f.key, f.criterion_id): f for f in c.findings}
    rows = []
    for col in c.criteria:
        graded: list[str | None] = []
        for row in vendors:
            finding = by_cell.get((row.key, col.id))
            grade = row.grades.get(col.id)
            graded += [COMPLIANCE[grade.value if grade else None], _evidence(finding)]
        together = f"{col.id} (with {len(col.members) - 1} related)" if len(col.members) > 1 else col.id
        for reference, text, mandatory in _requirements(col):
            rows.append([reference, text, "yes" if mandatory else "no", *graded, together])
    return header, rows


def ranking_note(c: Comparison) -> list[list[str]]:
    """Per vendor: rank, and the mandatory requirements it fails (flagged, or why it is left out of the ranking)."""
    out = []
    for row in c.rows:
        failed = ", ".join(row.failed_mandatory)
        if row.excluded:
            standing = "excluded from the ranking: fails mandatory " + failed
        elif failed:
            standing = "fails mandatory " + failed
        else:
            standing = "meets every mandatory requirement" if row.status == "done" else f"failed: {row.error or ''}"
        out.append([row.vendor, "" if row.rank is None else str(row.rank), standing])
    return out


def to_csv(c: Comparison) -> str:
    header, rows = compliance_rows(c)
    return to_csv_text(header, rows)


def to_xlsx(c: Comparison) -> bytes:
    book = new_workbook()  # first: it decides how openpyxl is imported
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wrap = Alignment(wrap_text=True, vertical="top")
    sheet = book.active
    sheet.title = "Compliance"
    header, rows = compliance_rows(c)
    append_xlsx_row(sheet, header)
    for line in rows:
        append_xlsx_row(sheet, line)
        r = sheet.max_row
        for j in range(3, len(line), 2):
            if line[j] in COLOUR:
                sheet.cell(row=r, column=j + 1).fill = PatternFill("solid", fgColor=COLOUR[line[j]])
    for sheet_row in sheet.iter_rows():
        for cell in sheet_row:
            cell.alignment = wrap
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "D2"
    for j in range(1, len(header) + 1):
        sheet.column_dimensions[get_column_letter(j)].width = 12 if j in (1, 3) else (60 if j == 2 else 30)
    ranking = book.create_sheet("Ranking")
    append_xlsx_row(ranking, ["vendor", "rank", "mandatory requirements"])
    for line in ranking_note(c):
        append_xlsx_row(ranking, line)
    for cell in ranking[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
