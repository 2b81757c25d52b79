"""PDF or Word bytes -> Document. The Document is built once and is the only text every later step sees."""

import asyncio
import hashlib
import re
from typing import Literal

from pydantic import BaseModel, Field

from reviewer.cleanup import clean_page_text
from reviewer.config import IngestSettings
from reviewer.docx_extract import CHARS_PER_PAGE, OLE_MAGIC, check_docx_package, looks_like_docx
from reviewer.errors import IngestError
from reviewer.extractor_pool import ExtractorPool
from reviewer.furniture import find_furniture, without_furniture
from reviewer.notices import ReviewWarning
from reviewer.ocr import INSTALL_HINT, OCR_CAVEAT, OcrResult, ocr_available, ocr_pages
from reviewer.pdf_extract import (
    OneOffExtractor,
    RawExtraction,
    RawPage,
    document_text_message,
    extract_isolated,
    page_text_message,
)

PDF_MAGIC = b"%PDF-"
HEADER_SEARCH_BYTES = 1024
MIN_TEXT_CHARS_PER_PAGE = 20
FileFormat = Literal["pdf", "docx"]


class Page(BaseModel):
    number: int = Field(ge=1, description="1-based page number.")
    text: str = Field(description="Cleaned text; citation offsets index into this string.")
    furniture: list[tuple[int, int]] = Field(
        default_factory=list,
        description="Spans of text of running headers, footers and page numbers: verified against, never prompted.",
    )
    ocr: bool = Field(default=False, description="The page had no text layer; its text was read by OCR.")

    @property
    def content(self) -> str:
        """The text without its furniture: what prompts show."""
        return without_furniture(self.text, self.furniture)


def with_furniture(pages: list[Page]) -> list[Page]:
    spans = find_furniture([p.text for p in pages])
    return [p.model_copy(update={"furniture": f}) if f else p for p, f in zip(pages, spans, strict=True)]


class Document(BaseModel):
    file_name: str
    sha256: str
    page_count: int
    pages: list[Page]
    source: Literal["pdf", "docx", "text"] = "pdf"
    pagination: Literal["pages", "page_breaks", "characters"] = Field(
        default="pages",
        description="What a page is: the PDF's own pages; a Word file's explicit page breaks; or, for a Word "
        f"file without any, about {CHARS_PER_PAGE:,} characters cut at paragraph ends.",
    )
    warnings: list[ReviewWarning] = Field(default_factory=list)
    placeholders: list[str] = Field(
        default_factory=list,
        description="In a document masked for a model (reviewer/masking.py): the placeholders standing for hidden "
        "names and personal data in its text. Empty for a document as it was read.",
    )
    vendor_placeholder: str | None = None  # the one of them standing for the vendor's name

    @property
    def char_count(self) -> int:
        return sum(len(p.text) for p in self.pages)

    @classmethod
    def from_text(cls, text: str, file_name: str) -> "Document":
        """A document that did not come from a PDF: pages split on form feeds, else one page."""
        raw_pages = text.split("\f") if "\f" in text else [text]
        pages = with_furniture([Page(number=i, text=clean_page_text(t)) for i, t in enumerate(raw_pages, start=1)])
        return cls(
            file_name=file_name,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            page_count=len(pages),
            pages=pages,
            source="text",
        )


def _format_pages(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    ranges: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        ranges.append(f"{start}" if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(ranges)


def check_document_bytes(data: bytes, limits: IngestSettings) -> FileFormat:
    """The cheap checks, done before any parsing: empty, too large, neither a PDF nor a Word file (told
    by the bytes, never by the name), a Word file that would unpack past the limit. Returns the format."""
    if not data:
        raise IngestError("the file is empty", code="empty_file")
    if len(data) > limits.max_file_bytes:
        raise IngestError(
            f"the file is {len(data) / 1_048_576:.1f} MB; the limit is {limits.max_file_bytes / 1_048_576:.1f} MB",
            code="too_large",
        )
    if PDF_MAGIC in data[:HEADER_SEARCH_BYTES]:
        return "pdf"
    if looks_like_docx(data):
        check_docx_package(data, limits.max_unpacked_bytes)
        return "docx"
    if data.startswith(OLE_MAGIC):
        raise IngestError(
            "the file is not a PDF or .docx: it looks like a legacy .doc or a password-protected Word file; "
            "save it as .docx (without a password) or as PDF",
            code="not_pdf",
        )
    raise IngestError("the file is not a PDF (no %PDF- header) or a Word .docx (no word/document.xml)", code="not_pdf")


def read_document(
    data: bytes,
    file_name: str,
    *,
    limits: IngestSettings | None = None,
    password: str | None = None,
    extractor: OneOffExtractor | None = None,
) -> Document:
    """PDF or .docx bytes -> Document, extracting in a fresh child interpreter (for one-off use: the CLI;
    `extractor` is one the caller started ahead, see OneOffExtractor)."""
    limits = limits or IngestSettings()
    check_document_bytes(data, limits)
    raw = extract_isolated(data, password, limits, extractor)
    return document_from_extraction(data, file_name, raw, limits, password)


async def read_document_with(pool: ExtractorPool, data: bytes, file_name: str, password: str | None = None) -> Document:
    """PDF or .docx bytes -> Document, extracting in one of a server's long-lived extractor processes.
    The clean-up is CPU work: it runs in a thread, so the event loop keeps answering meanwhile."""
    check_document_bytes(data, pool.limits)
    raw = await pool.extract(data, password)
    return await asyncio.to_thread(document_from_extraction, data, file_name, raw, pool.limits, password)


# The names from before Word files were read; tests, bench scripts and the PDF-only evaluation sets use them.
read_pdf, read_pdf_with, check_pdf_bytes = read_document, read_document_with, check_document_bytes


def check_text_limits(raw: RawExtraction, limits: IngestSettings) -> None:
    """The parent's own check of what a child sent back: the child stops at these limits too, but
    nothing it answers is processed unbounded."""
    total = 0
    for number, page in enumerate(raw.pages, start=1):
        if len(page.text) > limits.max_page_chars:
            raise IngestError(page_text_message(number, len(page.text), limits.max_page_chars), code="too_much_text")
        total += len(page.text)
    if total > limits.max_document_chars:
        raise IngestError(document_text_message(total, limits.max_document_chars), code="too_much_text")


def _scanned_pages(raw: RawExtraction, texts: list[str]) -> list[int]:
    """PDF pages with an image and no text layer: the ones OCR can read."""
    if raw.pagination is not None:
        return []
    return [n for n, t in enumerate(texts, start=1) if len(t) < MIN_TEXT_CHARS_PER_PAGE and raw.pages[n - 1].has_images]


def _read_by_ocr(
    data: bytes, scanned: list[int], password: str | None, limits: IngestSettings
) -> tuple[OcrResult, str | None]:
    """OCR the scanned pages if settings and the machine allow; also what to tell the user if it did not run."""
    if not scanned or limits.ocr == "off":
        return OcrResult(), None
    if not ocr_available():
        if limits.ocr == "on":
            raise IngestError(
                f"{'page' if len(scanned) == 1 else 'pages'} {_format_pages(scanned)} need OCR "
                f"(REVIEWER_INGEST_OCR=on) but OCR is not available: {INSTALL_HINT}",
                code="ocr_unavailable",
            )
        return OcrResult(), INSTALL_HINT
    result = ocr_pages(data, scanned, password, limits)
    return result, result.error


def document_from_extraction(
    data: bytes, file_name: str, raw: RawExtraction, limits: IngestSettings, password: str | None = None
) -> Document:
    if raw.error_code:
        raise IngestError(raw.error_message or raw.error_code, code=raw.error_code)
    check_text_limits(raw, limits)

    texts = [clean_page_text(p.text) for p in raw.pages]
    scanned = _scanned_pages(raw, texts)
    ocr, ocr_note = _read_by_ocr(data, scanned, password, limits)
    read_by_ocr = []
    for number in scanned:
        text = clean_page_text(ocr.pages.get(number, ""))
        if len(text) >= MIN_TEXT_CHARS_PER_PAGE:
            texts[number - 1] = text
            read_by_ocr.append(number)
    if read_by_ocr:
        check_text_limits(RawExtraction(pages=[RawPage(text=t, has_images=False) for t in texts]), limits)
    if set(scanned) - set(read_by_ocr) and ocr_note is None and limits.ocr != "off":
        ocr_note = "OCR here found no text on them"

    pages = with_furniture([Page(number=i, text=t, ocr=i in read_by_ocr) for i, t in enumerate(texts, start=1)])
    textless = [p.number for p in pages if len(p.text) < MIN_TEXT_CHARS_PER_PAGE]
    if len(textless) == len(pages):
        hint = f"; {ocr_note}" if ocr_note else ""
        raise IngestError(
            f"no text layer on any page ({_format_pages(textless)}); the PDF looks scanned: run OCR "
            f"(e.g. ocrmypdf) and review the result{hint}",
            code="no_text",
        )
    warnings = []
    if read_by_ocr:
        warnings.append(
            ReviewWarning(
                code="ocr_pages",
                message=f"{'page' if len(read_by_ocr) == 1 else 'pages'} {_format_pages(read_by_ocr)} "
                f"had no text layer and {'was' if len(read_by_ocr) == 1 else 'were'} read by OCR: {OCR_CAVEAT}",
                pages=read_by_ocr,
            )
        )
    if textless:
        imaged = [n for n in textless if raw.pages[n - 1].has_images]
        kind = "image-only (scanned?)" if imaged == textless else "without extractable text"
        hint = f" ({ocr_note})" if ocr_note and set(textless) & set(scanned) else ""
        warnings.append(
            ReviewWarning(
                code="image_only_pages",
                message=f"{'page' if len(textless) == 1 else 'pages'} {_format_pages(textless)} "
                f"{'is' if len(textless) == 1 else 'are'} {kind} and not reviewed; OCR them if they matter{hint}",
                pages=textless,
            )
        )
    if raw.pagination is not None:
        warnings.append(_approximate_pages_warning(raw.pagination, len(pages)))
    return Document(
        file_name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        page_count=len(pages),
        pages=pages,
        source="pdf" if raw.pagination is None else "docx",
        pagination="pages" if raw.pagination is None else raw.pagination,
        warnings=warnings,
    )


def _approximate_pages_warning(pagination: str, page_count: int) -> ReviewWarning:
    if pagination == "page_breaks":
        how = "pages are counted at the Word file's explicit page breaks"
    else:
        how = f"the Word file has no page breaks, so a page here is about {CHARS_PER_PAGE:,} characters"
    return ReviewWarning(
        code="approximate_pages",
        message=f"{how} ({page_count} in all); Word may number its pages differently: find a quote by searching for it",
    )


_SAFE_NAME = re.compile(r"[^\w.\- ]+")


def safe_file_name(name: str) -> str:
    """A display name from an uploaded file name: no directories, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _SAFE_NAME.sub("_", base).strip() or "document.pdf"
