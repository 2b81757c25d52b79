"""What a one-off CLI review pays for before its first result: the extraction child starts ahead of
the document and imports only what extraction needs; building the command line imports no HTTP client;
an offline review imports no name finder, store or spreadsheet writer; a spreadsheet export does not
import numpy; a bulk rerun with nothing to do opens no store and renders nothing."""

import subprocess
import sys
from pathlib import Path

import pytest

from reviewer.config import IngestSettings
from reviewer.documents import read_document
from reviewer.errors import IngestError
from reviewer.pdf_extract import OneOffExtractor
from tests.pdfs import text_pdf

PAGE = "Section 1. Client data stays in the EU region and is encrypted at rest."


def _modules_after(code: str, names: tuple[str, ...]) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {names!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[-1].split() if out.strip() else []  # the last line: the code may print too


def test_a_child_started_ahead_extracts_the_document_sent_to_it_later():
    with OneOffExtractor() as extractor:
        document = read_document(text_pdf([PAGE]), "p.pdf", limits=IngestSettings(), extractor=extractor)
        assert extractor.used
    assert PAGE in document.pages[0].text
    assert extractor.process.returncode is not None


def test_a_child_whose_document_never_comes_is_stopped():
    with OneOffExtractor() as extractor:
        pid = extractor.process.pid
    assert extractor.process.returncode is not None
    assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0


def test_the_time_limit_holds_for_a_child_started_ahead():
    with OneOffExtractor() as extractor, pytest.raises(IngestError) as caught:
        read_document(text_pdf([PAGE]), "p.pdf", limits=IngestSettings(timeout_seconds=0.01), extractor=extractor)
    assert caught.value.code == "extraction_timeout"
    assert extractor.process.returncode is not None


def test_a_child_takes_one_document_only():
    with OneOffExtractor() as extractor:
        read_document(text_pdf([PAGE]), "p.pdf", limits=IngestSettings(), extractor=extractor)
        with pytest.raises(RuntimeError):
            read_document(text_pdf([PAGE]), "p.pdf", limits=IngestSettings(), extractor=extractor)


def test_the_extraction_child_imports_neither_pydantic_nor_asyncio():
    assert _modules_after("import reviewer.pdf_extract", ("pydantic", "asyncio", "reviewer.config")) == []


def test_a_spreadsheet_export_does_not_import_numpy_and_keeps_numbers_numbers():
    code = (
        "import io\nfrom decimal import Decimal\n"
        "from reviewer.render.cells import append_xlsx_row, new_workbook\n"
        "book = new_workbook()\nappend_xlsx_row(book.active, ['=1+1', 3, 2.5, Decimal('1.5')])\n"
        "assert [c.data_type for c in book.active[1]] == ['s', 'n', 'n', 'n'], [c.data_type for c in book.active[1]]\n"
        "book.save(io.BytesIO())"
    )
    assert _modules_after(code, ("numpy",)) == []


def test_a_rerun_leaves_a_report_that_holds_the_same_bytes_as_it_is(tmp_path):
    from reviewer.output import write_bytes_atomically

    report = tmp_path / "report.md"
    write_bytes_atomically(report, b"same")
    first = report.stat()
    write_bytes_atomically(report, b"same")
    assert report.stat().st_ino == first.st_ino  # not replaced
    write_bytes_atomically(report, b"same", private=True)  # another mode: written again
    assert report.stat().st_ino != first.st_ino and report.stat().st_mode & 0o777 == 0o600
    write_bytes_atomically(report, b"news", private=True)
    assert report.read_bytes() == b"news"


SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_building_the_command_line_imports_no_http_client_and_no_event_loop():
    code = "from reviewer.cli import build_parser\nbuild_parser()"
    assert _modules_after(code, ("httpx2", "asyncio", "pydantic", "reviewer.cli.remote")) == []


def test_an_offline_review_imports_no_name_finder_round_model_store_or_spreadsheet(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    report = tmp_path / "report.md"
    argv = ["review", str(SAMPLES / "coral_data.pdf"), "--backend", "offline", "-o", str(report)]
    code = f"from reviewer.cli import main\nassert main({argv!r}) == 0"
    unused = (
        "reviewer.names",
        "reviewer.personal_data",
        "reviewer.rounds",
        "reviewer.render.questions",
        "httpx2",
        "anthropic",
        "sqlalchemy",
        "openpyxl",
        "yaml",
    )
    assert _modules_after(code, unused) == ["yaml"]  # the rubric is YAML; nothing else of these is needed
    assert report.read_text().startswith("# Proposal review")


def test_a_bulk_rerun_with_nothing_to_do_opens_no_store_and_renders_nothing(tmp_path, monkeypatch):
    from reviewer.cli import main

    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    argv = ["bulk", str(SAMPLES / "coral_data.pdf"), "--backend", "offline", "--out", str(tmp_path / "out")]
    assert main([*argv, "--no-progress"]) == 0
    code = f"from reviewer.cli import main\nassert main({[*argv, '--no-progress']!r}) == 0"
    heavy = (
        *("sqlalchemy", "openpyxl", "reviewer.store", "reviewer.comparison", "reviewer.render.comparison"),
        "reviewer.grading.offline",
    )
    assert _modules_after(code, heavy) == []
