"""Builds the sample RFP PDFs from the text sources in samples/rfps/sources/.

    python -m samples.rfps.build_rfps        # rewrites samples/rfps/*.pdf

Source format: '# ' title, '## '/'### ' headings, '| a | b | c |' table rows (the first row of a table
is its header), '- ' list items, '---page---' page break, blank lines between paragraphs. Every page
carries a running footer (the RFP's title and the page number), as real RFPs do. Output is
deterministic (reportlab's invariant mode). Each PDF has a hand-made list of its requirements beside
it (NAME.gold.yaml), read by bench/rfp_extraction.py. Needs the dev extra (reportlab).
"""

import io
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    ListFlowable,
    ListItem,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

RFPS_DIR = Path(__file__).parent
SOURCES_DIR = RFPS_DIR / "sources"
PAGE_BREAK = "---page---"


def _table(rows: list[list[str]], styles) -> Table:
    widths = [2.2 * cm, 10.8 * cm, 3 * cm] if len(rows[0]) == 3 else None
    table = Table([[Paragraph(escape(c), styles["BodyText"]) for c in row] for row in rows], colWidths=widths)
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey)])
    )
    return table


def _flowables(source: str) -> list:
    styles = getSampleStyleSheet()
    story: list = []
    rows: list[list[str]] = []
    items: list[str] = []

    def flush() -> None:
        if rows:
            story.extend([_table(rows, styles), Spacer(1, 8)])
            rows.clear()
        if items:
            bullets = [ListItem(Paragraph(escape(i), styles["BodyText"])) for i in items]
            story.append(ListFlowable(bullets, bulletType="bullet", start="•"))
            items.clear()

    for block in source.strip().split("\n"):
        line = block.strip()
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
            continue
        if line.startswith("- "):
            items.append(line[2:])
            continue
        flush()
        if not line:
            continue
        if line == PAGE_BREAK:
            story.append(PageBreak())
        elif line.startswith("### "):
            story.append(Paragraph(escape(line[4:]), styles["Heading3"]))
        elif line.startswith("## "):
            story.append(Paragraph(escape(line[3:]), styles["Heading2"]))
        elif line.startswith("# "):
            story.append(Paragraph(escape(line[2:]), styles["Title"]))
        else:
            story.append(Paragraph(escape(line), styles["BodyText"]))
    flush()
    return story


def build(source: str) -> bytes:
    title = source.strip().splitlines()[0].lstrip("# ").split(":")[0]

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(2 * cm, 1.2 * cm, f"{title} | Official: for tendering purposes only")
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, f"Page {doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, invariant=1, title=title)
    doc.build(_flowables(source), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def main() -> None:
    for path in sorted(SOURCES_DIR.glob("*.md")):
        target = RFPS_DIR / f"{path.stem}.pdf"
        target.write_bytes(build(path.read_text(encoding="utf-8")))
        print(target)


if __name__ == "__main__":
    main()
