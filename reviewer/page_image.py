"""One page of a PDF as a PNG picture, for people to read beside its text. The PDF is the vendor's
(attacker-controlled), so pdfium renders it in a child interpreter bounded in wall time, CPU time and
memory, and the picture is bounded in size. Any failure is None: the caller shows the page's text alone.

Child protocol (`python -m reviewer.page_image`): stdin carries one JSON line of options, then the PDF
bytes; stdout carries the PNG bytes, or nothing when the page could not be rendered."""

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


class RenderOptions(BaseModel):
    page: int = Field(ge=1, description="1-based page number")
    max_width: int = Field(default=MAX_WIDTH, ge=50, le=4000)
    max_pixels: int = Field(default=MAX_PIXELS, ge=2500)
    password: str | None = None
    memory_bytes: int = MEMORY_BYTES
    cpu_seconds: int = 10


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


def render(data: bytes, options: RenderOptions) -> bytes | None:
    """The page as PNG bytes, or None (no such page, damaged, encrypted, zero-sized)."""
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
        bitmap = page.render(scale=scale, rev_byteorder=True)
        if bitmap.n_channels != 3:
            return None
        return encode_png(bitmap.width, bitmap.height, bitmap.stride, bytes(bitmap.buffer))
    except Exception:
        return None
    finally:
        pdf.close()


def render_isolated(data: bytes, options: RenderOptions, timeout_seconds: float = TIMEOUT_SECONDS) -> bytes | None:
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
    png = child.stdout
    return png if child.returncode == 0 and png.startswith(PNG_SIGNATURE) else None


def _serve_one() -> None:
    options = RenderOptions.model_validate_json(sys.stdin.buffer.readline())
    resource.setrlimit(resource.RLIMIT_AS, (options.memory_bytes, options.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (options.cpu_seconds, options.cpu_seconds + 1))
    png = render(sys.stdin.buffer.read(), options)
    if png is not None:
        sys.stdout.buffer.write(png)


if __name__ == "__main__":
    _serve_one()
