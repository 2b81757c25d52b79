"""One page of a PDF as a PNG picture, for people to read beside its text. The PDF is the vendor's
(attacker-controlled), so pdfium renders it in a child interpreter bounded in wall time, CPU time and
memory, and the picture is bounded in size. Any failure is None: the caller shows the page's text alone.

For a blind panel's evaluator (`RenderOptions.hide`), every occurrence of the strings to hide is blacked
out before the page is rendered (filled rectangles over pdfium's boxes of those characters, drawn into the
page, so rotation and crop boxes do not matter), every picture (image, shading) is blacked out whole (a logo
names a vendor as well as its name does), annotations and forms are not drawn, and a page that cannot be
masked with confidence is not rendered at all but answered with the reason (`Unmaskable`): a page mostly
made of pictures (a scan), or one where pdfium's text holds fewer occurrences than the extracted text the
masking counted (`expected`).

Child protocol (`python -m reviewer.page_image`): stdin carries one JSON line of options, then the PDF
bytes; stdout carries the PNG bytes, UNMASKABLE_PREFIX and the reason, or nothing when the page could not be
rendered."""

import re
import resource
import struct
import subprocess
import sys
import zlib

from pydantic import BaseModel, Field

MAX_WIDTH = 1000  # pixels: readable beside the text at 1,280 px, sharp enough to read small print
MAX_PIXELS = 1000 * 2000  # a very tall page is rendered smaller, not larger
TIMEOUT_SECONDS = 10.0
MEMORY_BYTES = 1024 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UNMASKABLE_PREFIX = b"UNMASKABLE "
MASK_PADDING_PT = 1.0
MAX_PICTURE_SHARE = 0.2  # of the page's area: past it the page is a scan or a graphic, not text with a logo


class Unmaskable(str):
    """Why a page's picture is not shown to a blind panel's evaluator (a sentence of ours, never document text)."""


class RenderOptions(BaseModel):
    page: int = Field(ge=1, description="1-based page number")
    max_width: int = Field(default=MAX_WIDTH, ge=50, le=4000)
    max_pixels: int = Field(default=MAX_PIXELS, ge=2500)
    password: str | None = None
    memory_bytes: int = MEMORY_BYTES
    cpu_seconds: int = 10
    hide: list[str] = Field(default_factory=list, description="Strings blacked out wherever pdfium finds them.")
    expected: int = Field(default=0, ge=0, description="Occurrences the masking counted on this page's text.")


def scale_for(width_pt: float, height_pt: float, max_width: int, max_pixels: int) -> float:
    """The render scale (pixels per PDF point) that fits the width and the pixel budget, at most 3x."""
    if width_pt <= 0 or height_pt <= 0:
        return 0.0
    by_width = max_width / width_pt
    by_area = (max_pixels / (width_pt * height_pt)) ** 0.5
    return min(by_width, by_area, 3.0)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(width: int, height: int, stride: int, rgb: bytes) -> bytes:
    """8-bit RGB rows (each `stride` bytes, of which 3 * width are pixels) -> PNG bytes."""
    row = 3 * width
    raw = b"".join(b"\x00" + rgb[y * stride : y * stride + row] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")


def hiding_pattern(hide: list[str]) -> re.Pattern[str] | None:
    """Any of the strings, whole words, in any case, with any run of white space where they have one."""
    forms = sorted({" ".join(h.split()) for h in hide if h.strip()}, key=len, reverse=True)
    if not forms:
        return None
    alternatives = "|".join(r"\s+".join(re.escape(w) for w in f.split()) for f in forms)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _black_out(page, options: RenderOptions) -> Unmaskable | None:
    """Filled black rectangles over every occurrence of `options.hide` on the page, or why it cannot be done."""
    import pypdfium2.raw as pdfium_c

    pictures = _picture_bounds(page)
    width_pt, height_pt = page.get_size()
    if sum(_area(b) for b in pictures) > MAX_PICTURE_SHARE * width_pt * height_pt:
        return Unmaskable("pictures cover much of the page (a scan, a graphic), and a picture can name the vendor")
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    if len(text) != textpage.count_chars():
        return Unmaskable("the names on it could not be located in the picture")
    pattern = hiding_pattern(options.hide)
    found = list(pattern.finditer(text)) if pattern else []
    if len(found) < options.expected:
        return Unmaskable("the names on it could not all be located in the picture")
    boxes = list(pictures)
    for match in found:
        boxes += [textpage.get_rect(i) for i in range(textpage.count_rects(match.start(), match.end() - match.start()))]
    for left, bottom, right, top in boxes:
        pad = MASK_PADDING_PT
        rect = pdfium_c.FPDFPageObj_CreateNewRect(
            left - pad, bottom - pad, right - left + 2 * pad, top - bottom + 2 * pad
        )
        pdfium_c.FPDFPageObj_SetFillColor(rect, 0, 0, 0, 255)
        pdfium_c.FPDFPath_SetDrawMode(rect, pdfium_c.FPDF_FILLMODE_WINDING, False)
        pdfium_c.FPDFPage_InsertObject(page.raw, rect)
    if boxes:
        page.gen_content()
    return None


def _area(box: tuple[float, float, float, float]) -> float:
    left, bottom, right, top = box
    return max(0.0, right - left) * max(0.0, top - bottom)


def _picture_bounds(page) -> list[tuple[float, float, float, float]]:
    """Where the page draws pictures (images, shadings, and forms holding either), in page coordinates: each
    is blacked out whole for a blind panel, since a logo names a vendor as well as its name does."""
    import pypdfium2.raw as pdfium_c

    kinds = [pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_SHADING]
    bounds = []
    for o in page.get_objects(max_depth=0):
        holds_picture = o.type in kinds or (
            o.type == pdfium_c.FPDF_PAGEOBJ_FORM and next(page.get_objects(filter=kinds, form=o), None) is not None
        )
        if holds_picture:
            bounds.append(tuple(o.get_bounds()))
    return bounds


def render(data: bytes, options: RenderOptions) -> bytes | Unmaskable | None:
    """The page as PNG bytes (names of `options.hide` blacked out), why it cannot be masked, or None (no such
    page, damaged, encrypted, zero-sized)."""
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(data, password=options.password)
    except Exception:
        return None
    try:
        if not 1 <= options.page <= len(pdf):
            return None
        page = pdf[options.page - 1]
        width_pt, height_pt = page.get_size()
        scale = scale_for(width_pt, height_pt, options.max_width, options.max_pixels)
        if scale <= 0:
            return None
        masked = bool(options.hide or options.expected)
        if masked and (refused := _black_out(page, options)) is not None:
            return refused
        bitmap = page.render(scale=scale, rev_byteorder=True, may_draw_forms=not masked, draw_annots=not masked)
        if bitmap.n_channels != 3:
            return None
        return encode_png(bitmap.width, bitmap.height, bitmap.stride, bytes(bitmap.buffer))
    except Exception:
        return None
    finally:
        pdf.close()


def render_isolated(
    data: bytes, options: RenderOptions, timeout_seconds: float = TIMEOUT_SECONDS
) -> bytes | Unmaskable | None:
    """`render` in a child interpreter: killed past the wall time, capped in CPU time and memory."""
    try:
        child = subprocess.run(
            [sys.executable, "-m", "reviewer.page_image"],
            input=options.model_dump_json().encode() + b"\n" + data,
            capture_output=True,
            timeout=timeout_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    out = child.stdout
    if child.returncode != 0:
        return None
    if out.startswith(UNMASKABLE_PREFIX):
        return Unmaskable(out[len(UNMASKABLE_PREFIX) : len(UNMASKABLE_PREFIX) + 200].decode("utf-8", "replace"))
    return out if out.startswith(PNG_SIGNATURE) else None


def _serve_one() -> None:
    options = RenderOptions.model_validate_json(sys.stdin.buffer.readline())
    resource.setrlimit(resource.RLIMIT_AS, (options.memory_bytes, options.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (options.cpu_seconds, options.cpu_seconds + 1))
    png = render(sys.stdin.buffer.read(), options)
    if isinstance(png, Unmaskable):
        sys.stdout.buffer.write(UNMASKABLE_PREFIX + png.encode())
    elif png is not None:
        sys.stdout.buffer.write(png)


if __name__ == "__main__":
    _serve_one()
