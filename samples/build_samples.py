"""Builds the sample proposal PDFs from the text sources in samples/sources/.

    python -m samples.build_samples          # rewrites samples/*.pdf and samples/heldout/*.pdf

Source format: '# ' title, '## ' heading, '| a | b |' table rows, '---page---' page break, blank
lines between paragraphs. Output is deterministic (reportlab's invariant mode), so rebuilding an
unchanged source gives the same bytes. Needs the dev extra (reportlab).
"""

import io
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

SAMPLES_DIR = Path(__file__).parent
SOURCES_DIR = SAMPLES_DIR / "sources"
HELDOUT_DIR = SAMPLES_DIR / "heldout"
SETS = (SAMPLES_DIR, HELDOUT_DIR)  # each holds sources/*.md, the PDFs built from them and labels.yaml
PAGE_BREAK = "---page---"


def _flowables(source: str) -> list:
    styles = getSampleStyleSheet()
    story: list = []
    paragraph: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if paragraph:
            story.append(Paragraph(escape(" ".join(paragraph)), styles["BodyText"]))
            paragraph.clear()
        if table:
            t = Table(
                [[Paragraph(escape(c), styles["BodyText"]) for c in row] for row in table],
                colWidths=[5 * cm, 4 * cm, 6 * cm],
            )
            t.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                    ]
                )
            )
            story.extend([t, Spacer(1, 8)])
            table.clear()

    for line in source.splitlines():
        stripped = line.strip()
        if stripped == PAGE_BREAK:
            flush()
            story.append(PageBreak())
        elif stripped.startswith("# "):
            flush()
            story.append(Paragraph(escape(stripped[2:]), styles["Title"]))
        elif stripped.startswith("## "):
            flush()
            story.append(Paragraph(escape(stripped[3:]), styles["Heading2"]))
        elif stripped.startswith("|"):
            if paragraph:
                flush()
            table.append([c.strip() for c in stripped.strip("|").split("|")])
        elif not stripped:
            flush()
        else:
            if table:
                flush()
            paragraph.append(stripped)
    flush()
    return story


def proposal_pdf_bytes(source: str, title: str = "Proposal") -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=title, author="reviewer samples", invariant=1)
    doc.build(_flowables(source))
    return buffer.getvalue()


def build_all(sample_set: Path = SAMPLES_DIR) -> list[Path]:
    written = []
    for source in sorted((sample_set / "sources").glob("*.md")):
        target = sample_set / f"{source.stem}.pdf"
        target.write_bytes(proposal_pdf_bytes(source.read_text(encoding="utf-8"), title=source.stem))
        written.append(target)
    return written


if __name__ == "__main__":
    for sample_set in SETS:
        for path in build_all(sample_set):
            print(path)
