"""Running headers, footers and page numbers: out of passages and prompts, still there for verification."""

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from reviewer.citations import QuoteLocator
from reviewer.documents import read_document
from reviewer.furniture import find_furniture
from reviewer.grading.prompts import render_document
from reviewer.passages import split_passages

HEADER = "Northwind Analytics - Response to RFP 2026-114"
FOOTER = "Confidential: prepared for the City of Springfield. Page {n} of {total}"
BODY = [
    "Our platform encrypts all customer data at rest with AES-256 and in transit with TLS 1.3.",
    "We run a quarterly bias evaluation on held-out data and publish the results to the client.",
    "The service level is 99.9% monthly availability with credits for any shortfall.",
    "Models are exportable in ONNX format and can run on the client's own infrastructure.",
    "Support is available around the clock, with a named engineer for priority incidents.",
]


def furnished_pdf(pages: int = 5) -> bytes:
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for n in range(1, pages + 1):
        c.drawString(50, 810, HEADER)
        c.drawString(50, 770, f"Section {2 * n + 1}")
        c.drawString(50, 750, BODY[(n - 1) % len(BODY)])
        c.drawString(50, 30, FOOTER.format(n=n, total=pages))
        c.showPage()
    c.save()
    return buffer.getvalue()


def test_lines_repeated_at_the_top_or_bottom_of_most_pages_are_furniture_and_numbers_must_follow_the_page():
    pages = [f"{HEADER}\nSection {2 * n + 1}\n{BODY[n - 1]}\n{FOOTER.format(n=n, total=5)}" for n in range(1, 6)]
    found = find_furniture(pages)
    for text, spans in zip(pages, found, strict=True):
        assert [text[s:e] for s, e in spans] == [HEADER, text.splitlines()[-1]]


def test_a_line_on_few_pages_or_in_a_short_document_is_not_furniture():
    pages = [f"Pricing\n{BODY[0]}", f"Pricing\n{BODY[1]}", f"Security\n{BODY[2]}", f"Support\n{BODY[3]}"]
    assert find_furniture(pages) == [[], [], [], []]
    two = [f"{HEADER}\n{BODY[0]}", f"{HEADER}\n{BODY[1]}"]
    assert find_furniture(two) == [[], []]


def test_passages_and_prompts_omit_headers_and_footers_but_a_quote_of_the_footer_still_verifies():
    document = read_document(furnished_pdf(), "northwind.pdf")
    assert all(HEADER in page.text and "Confidential" in page.text for page in document.pages)

    passages = split_passages(document)
    assert {p.text for p in passages} >= {BODY[0], BODY[4]}
    assert not any("Confidential" in p.text or "RFP 2026-114" in p.text for p in passages)

    prompt = render_document(document)
    assert BODY[2] in prompt
    assert "Confidential" not in prompt and HEADER not in prompt

    citation = QuoteLocator(document).locate(3, "Confidential: prepared for the City of Springfield. Page 3 of 5")
    assert citation.verified and citation.page == 3
    assert document.pages[2].text[citation.start : citation.end].endswith("Page 3 of 5")
