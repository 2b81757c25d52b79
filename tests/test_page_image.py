import struct
import zlib

from reviewer.page_image import RenderOptions, encode_png, render_isolated, scale_for
from tests.pdfs import decompression_bomb, encrypted, text_pdf


def test_a_page_renders_as_a_png_no_wider_than_the_bound():
    png = render_isolated(text_pdf(["Hello, page one.", "Page two."]), RenderOptions(page=2, max_width=400))
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert width == 400 and 560 <= height <= 570  # A4's proportions


def test_the_scale_keeps_a_tall_page_within_the_pixel_budget():
    scale = scale_for(600, 60_000, 1000, 2_000_000)
    assert 600 * scale * 60_000 * scale <= 2_000_000 * 1.0001 and scale_for(0, 100, 1000, 10_000) == 0


def test_no_such_page_damaged_or_encrypted_files_give_no_picture():
    pdf = text_pdf(["one"])
    assert render_isolated(pdf, RenderOptions(page=2)) is None
    assert render_isolated(b"%PDF-1.7 not really", RenderOptions(page=1)) is None
    assert render_isolated(encrypted(pdf, "pw"), RenderOptions(page=1)) is None


def test_a_render_past_its_time_is_stopped():
    assert render_isolated(decompression_bomb(), RenderOptions(page=1), timeout_seconds=0.01) is None


def test_encoded_pixels_decode_back():
    png = encode_png(2, 1, 8, bytes([255, 0, 0, 0, 255, 0, 9, 9]))
    idat = png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8]
    assert zlib.decompress(idat) == bytes([0, 255, 0, 0, 0, 255, 0])
