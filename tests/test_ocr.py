"""Scanned PDFs (issue 17): pages without a text layer are read by OCR when it is installed, and marked."""

import asyncio
import io

import pypdfium2
import pytest
from pypdf import PdfReader, PdfWriter

from reviewer import documents
from reviewer.config import IngestSettings
from reviewer.documents import Page, read_pdf
from reviewer.errors import IngestError
from reviewer.grading.base import RawCitation, RawFinding, RawGrading
from reviewer.ocr import INSTALL_HINT, OCR_CAVEAT, ocr_available
from reviewer.pipeline import review_document
from reviewer.render.markdown import render_markdown
from reviewer.review import Grade
from tests.conftest import make_document
from tests.fakes import ScriptedBackend
from tests.pdfs import text_pdf

SCANNED_TEXT = (
    "Acme Corp proposal for document review services.\n"
    "All customer data is encrypted at rest with AES-256.\n"
    "We support single sign-on through SAML 2.0 and OIDC."
)
SCANNED_QUOTE = "All customer data is encrypted at rest with AES-256."
TEXT_PAGE = "The second page has a text layer and names the support hours: 8 to 18 CET."
TEXT_QUOTE = "names the support hours: 8 to 18 CET"
NO_TEXT_MESSAGE = "no text layer on any page (1); the PDF looks scanned: run OCR (e.g. ocrmypdf) and review the result"

needs_ocr = pytest.mark.skipif(
    not ocr_available(),
    reason="Tesseract or OCRmyPDF not installed: apt-get install tesseract-ocr; pip install 'reviewer[ocr]'",
)


def scanned(pdf: bytes, dpi: int = 200) -> bytes:
    """Each page rendered to a greyscale image and wrapped as a PDF page: no text layer, like a scan."""
    images = [page.render(scale=dpi / 72).to_pil().convert("L") for page in pypdfium2.PdfDocument(pdf)]
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    return out.getvalue()


def joined(*pdfs: bytes) -> bytes:
    writer = PdfWriter()
    for pdf in pdfs:
        for page in PdfReader(io.BytesIO(pdf)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def scan_then_text() -> bytes:
    return joined(scanned(text_pdf([SCANNED_TEXT])), text_pdf([TEXT_PAGE]))


@pytest.fixture(scope="module")
def ocr_document(scan_then_text):
    if not ocr_available():
        pytest.skip("Tesseract or OCRmyPDF not installed: apt-get install tesseract-ocr; pip install 'reviewer[ocr]'")
    return read_pdf(scan_then_text, "scan.pdf")


def test_the_fixture_has_no_text_layer_on_its_scanned_page(scan_then_text):
    reader = PdfReader(io.BytesIO(scan_then_text))
    assert (reader.pages[0].extract_text() or "").strip() == ""
    assert "support hours" in reader.pages[1].extract_text()


@needs_ocr
def test_scanned_page_is_read_by_ocr_and_marked_and_text_pages_are_not(ocr_document):
    first, second = ocr_document.pages
    assert first.ocr and "encrypted at rest with AES-256" in first.text
    assert not second.ocr and second.text == TEXT_PAGE
    [warning] = ocr_document.warnings
    assert warning.code == "ocr_pages"
    assert warning.pages == [1]
    assert OCR_CAVEAT in warning.message


@needs_ocr
def test_review_of_a_scan_verifies_quotes_on_the_ocr_page_and_flags_them(ocr_document, rubric):
    met = RawFinding(
        criterion_id=rubric.criterion_ids[0],
        grade=Grade.MET,
        rationale="Encrypted at rest; support hours stated.",
        citations=[RawCitation(page=1, quote=SCANNED_QUOTE), RawCitation(page=2, quote=TEXT_QUOTE)],
    )
    review = asyncio.run(review_document(ocr_document, rubric, ScriptedBackend(RawGrading(findings=[met]))))
    scan_quote, text_quote = review.findings[0].citations
    assert scan_quote.verified and scan_quote.ocr and scan_quote.page == 1
    assert text_quote.verified and not text_quote.ocr
    assert "ocr_pages" in [w.code for w in review.warnings]
    markdown = render_markdown(review)
    assert "— p. 1 (OCR), verified" in markdown
    assert "— p. 2, verified" in markdown


@needs_ocr
def test_a_fully_scanned_pdf_is_read_instead_of_refused():
    document = read_pdf(scanned(text_pdf([SCANNED_TEXT])), "scan.pdf")
    assert document.pages[0].ocr
    assert "single sign-on" in document.pages[0].text


@needs_ocr
def test_ocr_past_its_time_limit_is_stopped_and_the_page_stays_unread(scan_then_text):
    document = read_pdf(scan_then_text, "scan.pdf", limits=IngestSettings(ocr_timeout_seconds=0.05))
    assert not document.pages[0].ocr
    [warning] = document.warnings
    assert warning.code == "image_only_pages" and warning.pages == [1]
    assert "OCR took longer than 0.05 s" in warning.message


def test_without_ocr_a_scanned_pdf_keeps_the_no_text_error_and_says_how_to_read_it(monkeypatch):
    monkeypatch.setattr(documents, "ocr_available", lambda: False)
    with pytest.raises(IngestError) as caught:
        read_pdf(scanned(text_pdf([SCANNED_TEXT])), "scan.pdf")
    assert caught.value.code == "no_text"
    assert caught.value.message.startswith(NO_TEXT_MESSAGE)
    assert INSTALL_HINT in caught.value.message


def test_without_ocr_a_scanned_page_keeps_the_image_only_warning(monkeypatch, scan_then_text):
    monkeypatch.setattr(documents, "ocr_available", lambda: False)
    document = read_pdf(scan_then_text, "scan.pdf")
    assert [p.ocr for p in document.pages] == [False, False]
    [warning] = document.warnings
    assert warning.code == "image_only_pages" and warning.pages == [1]
    assert "image-only" in warning.message


def test_ocr_off_never_runs_ocr_and_the_error_is_as_before(monkeypatch):
    def no_ocr(*_args):
        raise AssertionError("OCR ran with REVIEWER_INGEST_OCR=off")

    monkeypatch.setattr(documents, "ocr_pages", no_ocr)
    monkeypatch.setenv("REVIEWER_INGEST_OCR", "off")
    with pytest.raises(IngestError) as caught:
        read_pdf(scanned(text_pdf([SCANNED_TEXT])), "scan.pdf", limits=IngestSettings())
    assert (caught.value.code, caught.value.message) == ("no_text", NO_TEXT_MESSAGE)


def test_ocr_on_without_ocr_installed_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(documents, "ocr_available", lambda: False)
    with pytest.raises(IngestError) as caught:
        read_pdf(scanned(text_pdf([SCANNED_TEXT])), "scan.pdf", limits=IngestSettings(ocr="on"))
    assert caught.value.code == "ocr_unavailable"
    assert "page 1" in caught.value.message and INSTALL_HINT in caught.value.message


def test_quotes_found_on_an_ocr_page_carry_the_ocr_flag_wherever_they_were_cited():
    from reviewer.citations import QuoteLocator

    document = make_document(TEXT_PAGE, SCANNED_TEXT)
    document.pages[1] = Page(number=2, text=SCANNED_TEXT, ocr=True)
    locator = QuoteLocator(document)
    assert locator.locate(2, SCANNED_QUOTE).ocr
    moved = locator.locate(1, SCANNED_QUOTE)
    assert moved.verified and moved.page == 2 and moved.ocr
    assert not locator.locate(1, TEXT_QUOTE).ocr
