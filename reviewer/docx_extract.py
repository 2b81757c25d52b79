"""Word (.docx) text extraction, run in the same bounded child process as PDF extraction.

Body paragraphs and tables are read in document order: each paragraph and each table row on its own
line with a blank line between blocks, headings (Title, Heading 1-9) as blocks of their own, table
cells joined by " | ". A .docx has no pages of its own: the text is split at explicit page breaks
(a page-break character or "page break before" on a paragraph) when the file has any, else into
pages of about CHARS_PER_PAGE characters at paragraph boundaries. Word's running headers and
footers are not part of the body and are not read.
"""

import io
import zipfile
from typing import Literal

from reviewer.errors import IngestError
from reviewer.pdf_extract import RawExtraction, RawPage, document_text_message, page_text_message

DOCX_MAIN_PART = "word/document.xml"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc, and password-protected .docx
CHARS_PER_PAGE = 3000
MAX_ZIP_MEMBERS = 10_000

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
Pagination = Literal["page_breaks", "characters"]


def looks_like_docx(data: bytes) -> bool:
    """A zip with a word/document.xml member: read from the central directory only, no decompression."""
    if not data.startswith(ZIP_MAGIC):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return DOCX_MAIN_PART in archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def check_docx_package(data: bytes, max_unpacked_bytes: int) -> None:
    """Refuse a zip bomb before anything is decompressed: zipfile never inflates a member past the
    size its directory declares, so bounding the declared sizes bounds the work."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise IngestError(
                f"the Word file has {len(members):,} parts; the limit is {MAX_ZIP_MEMBERS:,}", code="resource_limit"
            )
        unpacked = sum(m.file_size for m in members)
        if unpacked > max_unpacked_bytes:
            raise IngestError(
                f"the Word file unpacks to {unpacked / 1_048_576:.0f} MB; the limit is "
                f"{max_unpacked_bytes / 1_048_576:.0f} MB (a zip bomb?)",
                code="resource_limit",
            )


class _PageBreak:
    pass


PAGE_BREAK = _PageBreak()
Block = str | _PageBreak


def _paragraph_blocks(p) -> list[Block]:
    """A w:p element as text pieces, split where it has explicit page breaks."""
    blocks: list[Block] = []
    properties = p.find(f"{_W}pPr")
    if properties is not None and properties.find(f"{_W}pageBreakBefore") is not None:
        value = properties.find(f"{_W}pageBreakBefore").get(f"{_W}val", "true")
        if value not in ("0", "false", "off"):
            blocks.append(PAGE_BREAK)
    text: list[str] = []
    for element in p.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if element.tag == f"{_W}t":
            text.append(element.text or "")
        elif element.tag == f"{_W}tab":
            text.append(" ")
        elif element.tag == f"{_W}br" and element.get(f"{_W}type") == "page":
            blocks.append("".join(text))
            blocks.append(PAGE_BREAK)
            text = []
        else:
            text.append("\n")
    blocks.append("".join(text))
    return blocks


def _cell_text(cell) -> str:
    parts = []
    for p in cell.iter(f"{_W}p"):
        parts.extend(b for b in _paragraph_blocks(p) if isinstance(b, str))
    return " ".join(" ".join(parts).split())


def _table_blocks(table) -> list[Block]:
    blocks: list[Block] = []
    for row in table.iter(f"{_W}tr"):
        cells = [_cell_text(c) for c in row.iter(f"{_W}tc")]
        line = " | ".join(c for c in cells if c)
        if line:
            blocks.append(line)
    return blocks


def _is_heading(style_name: str) -> bool:
    name = style_name.lower()
    return name == "title" or name.startswith("heading")


def body_blocks(data: bytes) -> list[Block]:
    """Paragraphs, headings and table rows of the body in reading order, with page breaks between."""
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(_table_blocks(item._tbl))
            continue
        pieces = _paragraph_blocks(item._p)
        style = item.style.name if item.style is not None else ""
        if _is_heading(style or ""):
            pieces = [p.replace("\n", " ") if isinstance(p, str) else p for p in pieces]
        blocks.extend(pieces)
    return blocks


def paginate(blocks: list[Block]) -> tuple[list[str], Pagination]:
    """Pages as text: at explicit page breaks if there are any, else every ~CHARS_PER_PAGE characters."""
    if any(b is PAGE_BREAK for b in blocks):
        pages, current = [], []
        for block in blocks:
            if block is PAGE_BREAK:
                pages.append(current)
                current = []
            elif block.strip():
                current.append(block.strip())
        pages.append(current)
        texts = ["\n\n".join(page) for page in pages]
        while len(texts) > 1 and not texts[-1]:  # a break at the very end opens no page
            texts.pop()
        return texts, "page_breaks"
    pages, current, size = [], [], 0
    for block in (b.strip() for b in blocks if isinstance(b, str)):
        if not block:
            continue
        if current and size + len(block) > CHARS_PER_PAGE:
            pages.append(current)
            current, size = [], 0
        current.append(block)
        size += len(block) + 2
    pages.append(current)
    return ["\n\n".join(page) for page in pages], "characters"


def extract_docx(
    data: bytes, max_pages: int, max_page_chars: int, max_document_chars: int, max_unpacked_bytes: int
) -> RawExtraction:
    """Never raises: failures come back as an error code and message, as for PDFs."""
    try:
        check_docx_package(data, max_unpacked_bytes)
        blocks = body_blocks(data)
        total = 0
        for block in blocks:
            if isinstance(block, str):
                total += len(block)
                if total > max_document_chars:
                    return RawExtraction(
                        error_code="too_much_text",
                        error_message=document_text_message(total, max_document_chars, more_than=True),
                    )
        texts, pagination = paginate(blocks)
    except IngestError as exc:
        return RawExtraction(error_code=exc.code, error_message=exc.message)
    except MemoryError:
        return RawExtraction(error_code="resource_limit", error_message="the Word file needs too much memory to read")
    except Exception as exc:  # python-docx and lxml raise many types on malformed input
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return RawExtraction(error_code="malformed", error_message=f"the Word file is damaged or malformed ({detail})")
    if len(texts) > max_pages:
        return RawExtraction(
            error_code="too_many_pages",
            error_message=f"the Word file has {len(texts)} pages; the limit is {max_pages}",
        )
    for number, text in enumerate(texts, start=1):
        if len(text) > max_page_chars:
            return RawExtraction(
                error_code="too_much_text", error_message=page_text_message(number, len(text), max_page_chars)
            )
    return RawExtraction(pages=[RawPage(text=t, has_images=False) for t in texts], pagination=pagination)
