import struct
import zlib

from reviewer.page_image import RenderOptions, Unmaskable, encode_png, render_isolated, scale_for
from tests.pdfs import decompression_bomb, encrypted, text_pdf, with_image_only_pages


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


def pixels(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and the RGB rows of a PNG written by encode_png (one IDAT, no row filters)."""
    width, height = struct.unpack(">II", png[16:24])
    raw = zlib.decompress(png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8])
    row = 1 + 3 * width
    return width, height, b"".join(raw[y * row + 1 : (y + 1) * row] for y in range(height))


def box_of(pdf: bytes, page: int, text: str, width_px: int) -> tuple[int, int, int, int]:
    """Where pdfium draws `text` on the page, in the pixels of a picture `width_px` wide (left, top, right, bottom)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    found = document[page - 1].get_textpage().get_text_range().index(text)
    textpage = document[page - 1].get_textpage()
    textpage.count_rects(found, len(text))
    left, bottom, right, top = textpage.get_rect(0)
    width_pt, height_pt = document[page - 1].get_size()
    scale = width_px / width_pt
    return int(left * scale), int((height_pt - top) * scale), int(right * scale), int((height_pt - bottom) * scale)


def dark_share(png: bytes, box: tuple[int, int, int, int]) -> float:
    """The share of the box's pixels that are (nearly) black."""
    width, _, rgb = pixels(png)
    left, top, right, bottom = box
    dark = total = 0
    for y in range(top + 1, bottom - 1):
        for x in range(left + 1, right - 1):
            i = 3 * (y * width + x)
            total += 1
            dark += max(rgb[i : i + 3]) < 40
    return dark / total


def test_a_blind_panels_picture_has_every_hidden_name_blacked_out_and_nothing_else():
    pdf = text_pdf(["Offer of Acme Robotics Ltd.", "Acme Robotics keeps your data.\nThe rest of the offer."])
    plain = render_isolated(pdf, RenderOptions(page=2))
    masked = render_isolated(pdf, RenderOptions(page=2, hide=["Acme Robotics Ltd", "Acme Robotics"], expected=1))
    assert isinstance(masked, bytes) and masked.startswith(b"\x89PNG")
    width = pixels(masked)[0]
    name, rest = box_of(pdf, 2, "Acme Robotics", width), box_of(pdf, 2, "The rest", width)
    assert dark_share(masked, name) == 1.0 and dark_share(plain, name) < 0.5
    assert dark_share(masked, rest) == dark_share(plain, rest) < 0.5  # what is not a name is drawn as it was


def test_a_page_with_a_picture_or_with_names_pdfium_cannot_find_is_not_rendered_for_a_blind_panel():
    pdf = text_pdf(["Offer of Acme Robotics Ltd.", "Page two."])
    scanned = with_image_only_pages(pdf, [1])
    refused = render_isolated(scanned, RenderOptions(page=1, hide=["Acme"], expected=0))
    assert isinstance(refused, Unmaskable) and "pictures cover much of the page" in refused
    missing = render_isolated(pdf, RenderOptions(page=1, hide=["Acme Robotics"], expected=2))  # the text has two
    assert isinstance(missing, Unmaskable) and "could not all be located" in missing
    assert isinstance(render_isolated(scanned, RenderOptions(page=1)), bytes)  # the lead still sees the scan


def logo_page(text: str) -> bytes:
    """A page with a small picture at the top, as a vendor's letterhead logo, and `text` below it."""
    import io

    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    c.drawImage(ImageReader(Image.new("RGB", (8, 4), (200, 40, 40))), 60, 760, width=120, height=50)
    c.drawString(60, 700, text)
    c.drawString(60, 680, "The rest of the offer.")
    c.showPage()
    c.save()
    return buffer.getvalue()


def test_a_logo_is_blacked_out_whole_for_a_blind_panel_and_the_page_still_shown():
    pdf = logo_page("Acme Robotics keeps your data.")
    plain = render_isolated(pdf, RenderOptions(page=1))
    masked = render_isolated(pdf, RenderOptions(page=1, hide=["Acme Robotics"], expected=1))
    assert isinstance(masked, bytes) and masked.startswith(b"\x89PNG")
    width = pixels(masked)[0]
    scale = width / 595.27
    top = int((841.89 - 810) * scale)
    logo = (int(60 * scale), top, int(180 * scale), top + int(50 * scale))
    assert dark_share(plain, logo) < 0.5 and dark_share(masked, logo) == 1.0
    assert dark_share(masked, box_of(pdf, 1, "Acme Robotics", width)) == 1.0
    rest = box_of(pdf, 1, "The rest", width)
    assert dark_share(masked, rest) == dark_share(plain, rest) < 0.5
    assert render_isolated(pdf, RenderOptions(page=1)) == plain  # the lead's picture keeps its logo
