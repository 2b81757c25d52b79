"""PDFs made on the fly for tests: good ones, and one of each kind of bad one."""

import io
import zlib

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def text_pdf(pages: list[str]) -> bytes:
    """One page per string, each line drawn as a line of text. An empty string makes a blank page."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for page in pages:
        y = 800
        for line in page.splitlines():
            c.drawString(50, y, line)
            y -= 14
        c.showPage()
    c.save()
    return buffer.getvalue()


def _image_stream() -> DecodedStreamObject:
    image = DecodedStreamObject()
    image.set_data(b"\x80" * 16)
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(4),
            NameObject("/Height"): NumberObject(4),
            NameObject("/ColorSpace"): NameObject("/DeviceGray"),
            NameObject("/BitsPerComponent"): NumberObject(8),
        }
    )
    return image


def with_image_only_pages(pdf: bytes, page_numbers: list[int]) -> bytes:
    """Replace the given (1-based) pages' content with a drawn image and no text, like a scan."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for number, page in enumerate(reader.pages, start=1):
        writer.add_page(page)
        if number not in page_numbers:
            continue
        target = writer.pages[-1]
        image_ref = writer._add_object(_image_stream())
        content = DecodedStreamObject()
        content.set_data(b"q 400 0 0 400 50 300 cm /Im0 Do Q")
        target[NameObject("/Contents")] = writer._add_object(content)
        target[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): image_ref})}
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def decompression_bomb(expanded_bytes: int = 400 * 1024 * 1024) -> bytes:
    """A one-page PDF whose content stream inflates from a few hundred KB to `expanded_bytes` of text."""
    compressor = zlib.compressobj(9)
    chunk = b"(A) Tj " * (1024 * 1024 // 7)
    body = b"".join(compressor.compress(chunk) for _ in range(expanded_bytes // len(chunk))) + compressor.flush()
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = DecodedStreamObject()
    stream._data = body
    stream.update({NameObject("/Filter"): NameObject("/FlateDecode"), NameObject("/Length"): NumberObject(len(body))})
    page[NameObject("/Contents")] = writer._add_object(stream)
    page[NameObject("/MediaBox")] = ArrayObject(
        [NumberObject(0), NumberObject(0), NumberObject(595), NumberObject(842)]
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def text_bomb(
    pages: int = 8, chars_per_page: int = 4_600_000, line: str = "All work and no play makes Jack a dull boy. "
) -> bytes:
    """A small PDF whose text expands enormously: each page's compressed content stream shows `line`
    over and over (one text-show operator per line) until the page holds about `chars_per_page`
    characters. Deflate squeezes the repetition, so 8 pages of 4.6 M characters take a few hundred KB."""
    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")
    shows = max(1, chars_per_page // len(line))
    body = b"BT /F1 10 Tf 12 TL 50 800 Td " + (b"(" + escaped + b") Tj T* ") * shows + b"ET"
    compressed = zlib.compress(body, 9)
    for _ in range(pages):
        page = writer.add_blank_page(width=595, height=842)
        stream = DecodedStreamObject()
        stream._data = compressed
        stream.update(
            {NameObject("/Filter"): NameObject("/FlateDecode"), NameObject("/Length"): NumberObject(len(compressed))}
        )
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
