import hashlib

import pytest

from reviewer.config import IngestSettings
from reviewer.documents import Document, read_pdf, safe_file_name
from reviewer.errors import IngestError
from tests.pdfs import decompression_bomb, encrypted, text_bomb, text_pdf, with_image_only_pages

PAGE_ONE = "Section 1. We measure accuracy on an agreed evaluation set."
PAGE_TWO = "Section 2. Client data stays in the EU region and is encrypted."


def ingest_error(data: bytes, **kwargs) -> IngestError:
    with pytest.raises(IngestError) as caught:
        read_pdf(data, "proposal.pdf", **kwargs)
    return caught.value


def test_a_text_pdf_becomes_a_document_with_numbered_pages_and_its_hash():
    data = text_pdf([PAGE_ONE, PAGE_TWO])
    document = read_pdf(data, "proposal.pdf")
    assert document.file_name == "proposal.pdf"
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.page_count == 2
    assert [p.number for p in document.pages] == [1, 2]
    assert document.pages[0].text == PAGE_ONE
    assert document.pages[1].text == PAGE_TWO
    assert document.warnings == []


def test_empty_file_is_refused():
    assert ingest_error(b"").code == "empty_file"


def test_bytes_that_are_not_a_pdf_are_refused_whatever_the_name():
    error = ingest_error(b"PK\x03\x04 this is a zip file, not a proposal")
    assert error.code == "not_pdf"
    assert "not a PDF" in error.message


def test_file_over_the_size_limit_is_refused_before_parsing():
    data = text_pdf([PAGE_ONE])
    error = ingest_error(data, limits=IngestSettings(max_file_bytes=len(data) - 1))
    assert error.code == "too_large"


def test_pdf_over_the_page_limit_is_refused():
    error = ingest_error(text_pdf([PAGE_ONE, PAGE_TWO, PAGE_ONE]), limits=IngestSettings(max_pages=2))
    assert error.code == "too_many_pages"
    assert "3 pages" in error.message


def test_truncated_pdf_is_reported_as_malformed():
    data = text_pdf([PAGE_ONE])
    error = ingest_error(data[: len(data) // 3])
    assert error.code in {"malformed", "no_text"}
    garbage = b"%PDF-1.7\n" + b"\x00garbage that is no PDF structure at all\n" * 50
    assert ingest_error(garbage).code == "malformed"


def test_encrypted_pdf_needs_its_password():
    data = encrypted(text_pdf([PAGE_ONE]), user_password="s3cret")
    error = ingest_error(data)
    assert error.code == "encrypted"
    assert "password" in error.message
    assert ingest_error(data, password="wrong").code == "wrong_password"
    assert read_pdf(data, "p.pdf", password="s3cret").pages[0].text == PAGE_ONE


def test_pdf_encrypted_with_an_empty_user_password_opens_without_one():
    data = encrypted(text_pdf([PAGE_ONE]), user_password="")
    assert read_pdf(data, "p.pdf").pages[0].text == PAGE_ONE


def test_scanned_pdf_without_text_layer_names_the_pages_and_suggests_ocr():
    data = with_image_only_pages(text_pdf([PAGE_ONE, PAGE_TWO]), [1, 2])
    error = ingest_error(data)
    assert error.code == "no_text"
    assert "1-2" in error.message
    assert "OCR" in error.message


def test_some_image_only_pages_give_a_warning_naming_them():
    data = with_image_only_pages(text_pdf([PAGE_ONE, "placeholder", PAGE_TWO, "placeholder"]), [2, 4])
    document = read_pdf(data, "p.pdf")
    assert document.page_count == 4
    [warning] = document.warnings
    assert warning.code == "image_only_pages"
    assert warning.pages == [2, 4]
    assert "image-only" in warning.message


def test_extraction_that_runs_past_the_time_limit_is_stopped():
    error = ingest_error(text_pdf([PAGE_ONE]), limits=IngestSettings(timeout_seconds=0.01))
    assert error.code == "extraction_timeout"


def test_extraction_that_needs_more_memory_than_allowed_is_stopped():
    # the text limits are lifted, so that memory, not the character budget, is what stops it
    limits = IngestSettings(memory_bytes=96 * 1024 * 1024, max_page_chars=50_000_000, max_document_chars=100_000_000)
    error = ingest_error(text_bomb(pages=2), limits=limits)
    assert error.code == "resource_limit"


def test_decompression_bomb_ends_quickly_without_exhausting_the_caller():
    limits = IngestSettings(timeout_seconds=20, memory_bytes=512 * 1024 * 1024)
    with pytest.raises(IngestError) as caught:
        read_pdf(decompression_bomb(), "bomb.pdf", limits=limits)
    assert caught.value.code in {"resource_limit", "no_text", "malformed"}


def test_plain_text_document_splits_pages_on_form_feeds():
    document = Document.from_text("first page\fsecond  page", "nda.txt")
    assert [p.text for p in document.pages] == ["first page", "second page"]
    assert document.source == "text"
    assert Document.from_text("one page only", "x.txt").page_count == 1


def test_uploaded_file_names_lose_directories_and_odd_characters():
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("C:\\Users\\x\\Proposal <final>.pdf") == "Proposal _final_.pdf"
    assert safe_file_name("") == "document.pdf"


def test_extractor_pool_reuses_its_processes_and_bounds_time_and_memory():
    import asyncio

    from reviewer.documents import read_pdf_with
    from reviewer.extractor_pool import ExtractorPool

    async def scenario():
        pool = ExtractorPool(1, IngestSettings())
        try:
            first = await read_pdf_with(pool, text_pdf([PAGE_ONE]), "a.pdf")
            [worker] = pool._all
            second = await read_pdf_with(pool, text_pdf([PAGE_TWO]), "b.pdf")
            assert pool._all == {worker}  # the same process served both
            assert (first.pages[0].text, second.pages[0].text) == (PAGE_ONE, PAGE_TWO)
            with pytest.raises(IngestError) as caught:
                await read_pdf_with(pool, b"%PDF-1.7\n" + b"\x00junk\n" * 50, "bad.pdf")
            assert caught.value.code == "malformed"
            assert pool._all == {worker}  # a bad file does not cost the worker

            slow = ExtractorPool(1, IngestSettings(timeout_seconds=0.001))
            with pytest.raises(IngestError) as caught:
                await read_pdf_with(slow, text_pdf([PAGE_ONE]), "slow.pdf")
            assert caught.value.code == "extraction_timeout" and not slow._all
            await slow.close()

            # well under what a child needs to read any PDF, with or without the extras pypdf may import
            tight = ExtractorPool(1, IngestSettings(memory_bytes=16 * 1024 * 1024))
            with pytest.raises(IngestError) as caught:
                await read_pdf_with(tight, text_pdf([PAGE_ONE]), "tight.pdf")
            assert caught.value.code == "resource_limit"
            await tight.close()
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_pdf_without_pages_is_refused():
    import io

    from pypdf import PdfWriter

    out = io.BytesIO()
    PdfWriter().write(out)
    assert ingest_error(out.getvalue()).code == "no_pages"


def test_a_small_pdf_whose_text_expands_to_millions_of_characters_is_refused_with_too_much_text():
    data = text_bomb(pages=8, chars_per_page=4_600_000)  # ~130 KB of PDF, ~37 M characters of text
    assert len(data) < 200_000
    error = ingest_error(data)
    assert error.code == "too_much_text"
    assert error.message == "page 1 has more than 200,000 characters of text; the limit is 200,000 per page"


def test_the_text_limits_are_settings_and_name_their_figures():
    error = ingest_error(text_bomb(pages=2, chars_per_page=60_000), limits=IngestSettings(max_page_chars=50_000))
    assert error.code == "too_much_text"
    assert "the limit is 50,000 per page" in error.message

    error = ingest_error(text_bomb(pages=5, chars_per_page=50_000), limits=IngestSettings(max_document_chars=120_000))
    assert error.code == "too_much_text"
    assert error.message == (
        "the document has more than 120,000 characters of text (reached on page 3); the limit is 120,000 per document"
    )
    assert read_pdf(text_bomb(pages=2, chars_per_page=50_000), "ok.pdf").page_count == 2


def test_the_text_limits_come_from_the_environment(monkeypatch):
    from reviewer.config import Settings

    monkeypatch.setenv("REVIEWER_INGEST_MAX_PAGE_CHARS", "1234")
    monkeypatch.setenv("REVIEWER_INGEST_MAX_DOCUMENT_CHARS", "56789")
    limits = Settings.load().ingest
    assert (limits.max_page_chars, limits.max_document_chars) == (1234, 56789)


def test_the_parent_bounds_whatever_text_an_extractor_sends_back():
    from reviewer.documents import document_from_extraction
    from reviewer.pdf_extract import RawExtraction, RawPage

    short = RawPage(text="A page of ordinary length. " * 10, has_images=False)
    huge = RawPage(text="x" * 300_000, has_images=False)
    with pytest.raises(IngestError) as caught:
        document_from_extraction(b"%PDF-", "p.pdf", RawExtraction(pages=[short, huge]), IngestSettings())
    assert caught.value.code == "too_much_text"
    assert caught.value.message == "page 2 has 300,000 characters of text; the limit is 200,000 per page"

    many = RawExtraction(pages=[RawPage(text="y" * 150_000, has_images=False)] * 3)
    with pytest.raises(IngestError) as caught:
        document_from_extraction(b"%PDF-", "p.pdf", many, IngestSettings(max_document_chars=400_000))
    assert caught.value.message == "the document has 450,000 characters of text; the limit is 400,000 per document"


def test_the_extractor_pool_refuses_too_much_text_and_cleans_up_off_the_event_loop(monkeypatch):
    import asyncio
    import threading

    from reviewer import documents
    from reviewer.extractor_pool import ExtractorPool

    threads = []
    real = documents.document_from_extraction

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(documents, "document_from_extraction", recording)

    async def scenario():
        pool = ExtractorPool(1, IngestSettings(max_page_chars=10_000))
        try:
            with pytest.raises(IngestError) as caught:
                await documents.read_pdf_with(pool, text_bomb(pages=1, chars_per_page=50_000), "bomb.pdf")
            assert caught.value.code == "too_much_text"
            assert "the limit is 10,000 per page" in caught.value.message
            document = await documents.read_pdf_with(pool, text_pdf([PAGE_ONE]), "ok.pdf")
            assert document.pages[0].text == PAGE_ONE
        finally:
            await pool.close()

    asyncio.run(scenario())
    assert threads and all(t is not threading.main_thread() for t in threads)
