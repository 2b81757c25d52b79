"""OCR of scanned PDF pages with OCRmyPDF and Tesseract (the optional `reviewer[ocr]` extra).

Only pages without a text layer are OCR'd. The work runs in a child interpreter (`python -m
reviewer.ocr`) in its own process group, capped in memory and killed, with the Tesseract and
Ghostscript processes it started, when it passes `REVIEWER_INGEST_OCR_TIMEOUT_SECONDS`; so a scan
cannot hang or exhaust the service. OCR never fails a document on its own: what it could not read
stays an image-only page, and the caller says why.

Protocol: stdin carries one JSON line of options, then the PDF bytes; stdout carries one JSON object.
"""

import contextlib
import importlib.util
import os
import resource
import shutil
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from reviewer.config import IngestSettings

INSTALL_HINT = "install reviewer[ocr] and Tesseract to read scanned pages"
OCR_CAVEAT = "text read by OCR can differ from the image; check the quotes against the page"


class OcrOptions(BaseModel):
    pages: list[int] = Field(description="1-based pages to OCR.")
    password: str | None = None
    memory_bytes: int
    language: str = "eng"


class OcrResult(BaseModel):
    pages: dict[int, str] = Field(default_factory=dict, description="Page number -> the OCR'd text.")
    error: str | None = Field(default=None, description="Why OCR did not run or stopped, for the user.")


def ocr_available() -> bool:
    """OCRmyPDF importable and a `tesseract` on PATH (OCRmyPDF also needs Ghostscript)."""
    return importlib.util.find_spec("ocrmypdf") is not None and shutil.which("tesseract") is not None


def ocr_pages(data: bytes, pages: list[int], password: str | None, limits: "IngestSettings") -> OcrResult:
    """OCR the given pages in a bounded child process; never raises for a bad scan."""
    options = OcrOptions(pages=pages, password=password, memory_bytes=limits.memory_bytes)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one Tesseract thread per page: the cores are shared
    child = subprocess.Popen(
        [sys.executable, "-m", "reviewer.ocr"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    try:
        out, _ = child.communicate(
            options.model_dump_json().encode() + b"\n" + data, timeout=limits.ocr_timeout_seconds
        )
    except subprocess.TimeoutExpired:
        _kill_group(child)
        return OcrResult(error=f"OCR took longer than {limits.ocr_timeout_seconds:g} s and was stopped")
    finally:
        if child.poll() is None:
            _kill_group(child)
    try:
        return OcrResult.model_validate_json(out)
    except ValueError:
        return OcrResult(error="OCR was stopped for exceeding its memory limit or failed")


def _kill_group(child: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def run_ocr(data: bytes, options: OcrOptions, workdir: str) -> OcrResult:
    """In the child: OCR the pages with OCRmyPDF, then read back those pages' new text layer."""
    import logging

    import ocrmypdf
    import pikepdf
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    source, output = os.path.join(workdir, "in.pdf"), os.path.join(workdir, "out.pdf")
    with pikepdf.open(_write(os.path.join(workdir, "raw.pdf"), data), password=options.password or "") as pdf:
        pdf.save(source)  # without encryption, which OCRmyPDF refuses
    try:
        ocrmypdf.ocr(
            source,
            output,
            pages=",".join(map(str, options.pages)),
            skip_text=True,  # never re-OCR a page that has text
            language=[options.language],
            output_type="pdf",  # not PDF/A: nothing is kept but the text
            optimize=0,
            jobs=1,
            progress_bar=False,
        )
    except ocrmypdf.exceptions.ExitCodeException as exc:
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        return OcrResult(error=f"OCR failed ({detail})")
    reader = PdfReader(output)
    return OcrResult(pages={n: reader.pages[n - 1].extract_text() or "" for n in options.pages})


def _write(path: str, data: bytes) -> str:
    with open(path, "wb") as f:
        f.write(data)
    return path


def _serve_one() -> None:
    import tempfile

    options = OcrOptions.model_validate_json(sys.stdin.buffer.readline())
    resource.setrlimit(resource.RLIMIT_AS, (options.memory_bytes, options.memory_bytes))
    data = sys.stdin.buffer.read()
    with tempfile.TemporaryDirectory(prefix="reviewer-ocr-") as workdir:
        try:
            result = run_ocr(data, options, workdir)
        except MemoryError:
            result = OcrResult(error="OCR ran out of memory")
        except Exception as exc:  # a damaged scan, a missing Ghostscript, ...: the page stays unread
            result = OcrResult(error=f"OCR failed ({type(exc).__name__})")
    sys.stdout.write(result.model_dump_json())


if __name__ == "__main__":
    _serve_one()
