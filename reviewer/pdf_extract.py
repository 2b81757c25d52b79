"""Text extraction with pypdf, run in a child process so a hostile PDF cannot hang or exhaust the caller.

pypdf has no per-document time limit, so the parent waits a bounded time and kills the child; the
child caps its own address space with RLIMIT_AS so a decompression bomb fails inside it.
"""

import io
import logging
import multiprocessing
import multiprocessing.connection
import resource
from dataclasses import dataclass, field

from reviewer.config import IngestLimits
from reviewer.errors import IngestError

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["pypdf", "reviewer.pdf_extract"])


@dataclass
class RawPage:
    text: str
    has_images: bool


@dataclass
class RawExtraction:
    pages: list[RawPage] = field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None


def _page_has_images(page) -> bool:
    try:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        if not xobjects:
            return False
        return any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.get_object().values())
    except Exception:
        return False


def extract(data: bytes, password: str | None, max_pages: int) -> RawExtraction:
    """Extract every page's text. Never raises: failures come back as an error code and message."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError, WrongPasswordError

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == 0:
            if password is None:
                return RawExtraction(
                    error_code="encrypted",
                    error_message="the PDF is password-protected; pass its password (--password)",
                )
            if reader.decrypt(password) == 0:
                return RawExtraction(error_code="wrong_password", error_message="the PDF password is wrong")
        page_count = len(reader.pages)
        if page_count == 0:
            return RawExtraction(error_code="no_pages", error_message="the PDF has no pages")
        if page_count > max_pages:
            return RawExtraction(
                error_code="too_many_pages",
                error_message=f"the PDF has {page_count} pages; the limit is {max_pages}",
            )
        pages = []
        for page in reader.pages:
            text = page.extract_text() or ""
            pages.append(RawPage(text=text, has_images=False if text.strip() else _page_has_images(page)))
        return RawExtraction(pages=pages)
    except (FileNotDecryptedError, WrongPasswordError):
        return RawExtraction(error_code="encrypted", error_message="the PDF could not be decrypted")
    except MemoryError:
        return RawExtraction(
            error_code="resource_limit", error_message="extracting the PDF needed more memory than allowed"
        )
    except (PdfReadError, Exception) as exc:  # pypdf raises many types on malformed input
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return RawExtraction(error_code="malformed", error_message=f"the PDF is damaged or malformed ({detail})")


def _child(
    conn: multiprocessing.connection.Connection,
    data: bytes,
    password: str | None,
    max_pages: int,
    memory_bytes: int,
    cpu_seconds: int,
) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    try:
        result = extract(data, password, max_pages)
    except MemoryError:
        result = RawExtraction(error_code="resource_limit", error_message="extraction ran out of memory")
    conn.send(result)
    conn.close()


def extract_isolated(data: bytes, password: str | None, limits: IngestLimits) -> RawExtraction:
    """Run `extract` in a child process bounded in wall time, CPU time and memory."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    cpu_seconds = max(1, int(limits.timeout_seconds) + 1)
    process = _CONTEXT.Process(
        target=_child,
        args=(sender, data, password, limits.max_pages, limits.memory_bytes, cpu_seconds),
        daemon=True,
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.timeout_seconds):
            raise IngestError(
                f"text extraction took longer than {limits.timeout_seconds:g} s and was stopped "
                "(the PDF may be hostile or pathologically complex)",
                code="extraction_timeout",
            )
        try:
            return receiver.recv()
        except EOFError:
            raise IngestError(
                "text extraction was stopped for exceeding its memory or CPU limit "
                "(the PDF may be hostile or pathologically complex)",
                code="resource_limit",
            ) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
