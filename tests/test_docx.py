"""Word proposals: read from the bytes into the same Document as PDFs, bounded like PDFs."""

import io
import zipfile
from pathlib import Path

import docx
import pytest

from reviewer.cli import main
from reviewer.config import IngestSettings
from reviewer.documents import check_document_bytes, read_document
from reviewer.docx_extract import CHARS_PER_PAGE
from reviewer.errors import IngestError
from reviewer.review import Review
from reviewer.sources import collect_sources
from tests.pdfs import text_pdf

SOURCES = Path(__file__).resolve().parent.parent / "samples" / "sources"


def word_file(build) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def structured(document) -> None:
    document.add_heading("Security and data protection", level=1)
    document.add_paragraph("All customer data is encrypted at rest with AES-256 and in transit with TLS 1.3.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Certification", "Status"
    table.cell(1, 0).text, table.cell(1, 1).text = "ISO 27001", "Certified since 2021"
    document.add_paragraph("Penetration tests are run by an independent firm every year.")
    document.add_page_break()
    document.add_heading("Pricing", level=1)
    document.add_paragraph("The annual licence costs 120,000 EUR, all support included.")


def sample_as_word(markdown: str):
    """A sample proposal's source as a Word file: '#' lines as headings, ---page--- as page breaks."""

    def build(document) -> None:
        for line in markdown.splitlines():
            if line.strip() == "---page---":
                document.add_page_break()
            elif line.startswith("#"):
                document.add_heading(line.lstrip("#").strip(), level=min(line.count("#", 0, 3), 2))
            elif line.strip():
                document.add_paragraph(line.strip())

    return build


def test_paragraphs_headings_and_tables_are_read_in_order_and_pages_follow_page_breaks():
    document = read_document(word_file(structured), "proposal.docx")
    assert document.source == "docx" and document.pagination == "page_breaks"
    assert document.page_count == 2
    first = document.pages[0].text.split("\n\n")
    assert first == [
        "Security and data protection",
        "All customer data is encrypted at rest with AES-256 and in transit with TLS 1.3.",
        "Certification | Status",
        "ISO 27001 | Certified since 2021",
        "Penetration tests are run by an independent firm every year.",
    ]
    assert document.pages[1].text.startswith("Pricing\n\nThe annual licence costs 120,000 EUR")
    [warning] = document.warnings
    assert warning.code == "approximate_pages" and "explicit page breaks" in warning.message


def test_without_page_breaks_a_page_is_a_fixed_number_of_characters_and_the_warning_says_so():
    paragraph = "The vendor keeps an audit log of every administrative action for seven years. " * 5

    def build(document) -> None:
        for _ in range(40):
            document.add_paragraph(paragraph.strip())

    document = read_document(word_file(build), "long.docx")
    assert document.pagination == "characters"
    assert document.page_count == pytest.approx(40 * len(paragraph) / CHARS_PER_PAGE, abs=2)
    assert all(len(page.text) <= CHARS_PER_PAGE + len(paragraph) for page in document.pages)
    assert f"about {CHARS_PER_PAGE:,} characters" in document.warnings[0].message


def test_the_type_is_decided_by_the_bytes_not_the_name():
    assert read_document(word_file(structured), "misnamed.pdf").source == "docx"
    assert read_document(text_pdf(["A proposal page with enough text to count."]), "misnamed.docx").source == "pdf"
    with pytest.raises(IngestError) as error:
        check_document_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, IngestSettings())
    assert error.value.code == "not_pdf" and "legacy .doc" in error.value.message


def with_member(data: bytes, name: str, content: bytes) -> bytes:
    """The package with `name` added, or replaced by `content`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info))
        target.writestr(name, content)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_inflated():
    bomb = with_member(word_file(structured), "word/media/filler.bin", b"\x00" * 5_000_000)
    assert len(bomb) < 100_000
    limits = IngestSettings(max_unpacked_bytes=1_000_000)
    with pytest.raises(IngestError) as error:
        read_document(bomb, "bomb.docx", limits=limits)
    assert error.value.code == "resource_limit" and "zip bomb" in error.value.message


def test_too_much_text_in_a_word_file_is_refused_like_in_a_pdf():
    def build(document) -> None:
        for _ in range(50):
            document.add_paragraph("x" * 1000)

    with pytest.raises(IngestError) as error:
        read_document(word_file(build), "big.docx", limits=IngestSettings(max_document_chars=20_000))
    assert error.value.code == "too_much_text" and "the limit is 20,000 per document" in error.value.message


def test_a_damaged_word_file_is_a_clear_error():
    damaged = with_member(word_file(structured), "word/document.xml", b"<not xml")
    with pytest.raises(IngestError) as error:
        read_document(damaged, "damaged.docx")
    assert error.value.code == "malformed" and "Word file is damaged" in error.value.message


def test_cli_reviews_a_word_proposal_with_citations_on_its_pages(capsys, tmp_path):
    path = tmp_path / "brightpath_ai.docx"
    path.write_bytes(word_file(sample_as_word((SOURCES / "brightpath_ai.md").read_text())))
    code = main(["review", str(path), "--backend", "offline", "--format", "json"])
    out, _ = capsys.readouterr()
    assert code == 0
    review = Review.model_validate_json(out)
    assert review.document.source == "docx" and review.document.pages >= 2
    document = read_document(path.read_bytes(), path.name)
    cited = [c for f in review.findings for c in f.citations if c.verified]
    assert cited
    for citation in cited:
        assert citation.quote[:20].lower() in document.pages[citation.page - 1].text.lower()
    assert any(w.code == "approximate_pages" for w in review.warnings)


def test_bulk_takes_word_files_from_folders_and_zips_and_a_word_file_is_not_an_archive(tmp_path):
    folder = tmp_path / "responses"
    folder.mkdir()
    (folder / "a.docx").write_bytes(word_file(structured))
    (folder / "b.pdf").write_bytes(text_pdf(["A proposal page with enough text to count."]))
    (folder / "notes.txt").write_text("not a proposal")
    archive = tmp_path / "late.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("c.docx", word_file(structured))
    direct = tmp_path / "d.docx"
    direct.write_bytes(word_file(structured))
    names = [s.name for s in collect_sources([folder, archive, direct])]
    assert names == ["a.docx", "b.pdf", "c.docx", "d.docx"]
    misnamed = tmp_path / "e.zip"
    misnamed.write_bytes(word_file(structured))
    [source] = collect_sources([misnamed])
    assert source.member is None and source.error is None
    assert read_document(source.read(10_000_000), source.name).source == "docx"


def test_api_accepts_a_word_upload(tmp_path):
    from tests.test_api import AUTH, make_client, wait_for

    with make_client(tmp_path) as client:
        data = word_file(sample_as_word((SOURCES / "helix_systems.md").read_text()))
        mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        response = client.post("/v1/reviews", headers=AUTH, files={"file": ("helix.docx", data, mime)})
        assert response.status_code == 202, response.text
        body = wait_for(client, response.json()["id"])
    assert body["status"] == "done"
    assert body["review"]["document"]["source"] == "docx"
