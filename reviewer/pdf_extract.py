"""Text extraction with pypdf (and, for Word files, docx_extract), run in a child process so a hostile
file cannot hang or exhaust the caller.

pypdf has no per-document time limit, so the parent waits a bounded time and kills the child; the
child caps its own address space (RLIMIT_AS) and CPU time before it parses anything, so a
decompression bomb or a pathological file fails inside it. The child is a fresh interpreter
(`python -m reviewer.pdf_extract`), not a fork, so it is safe to call from threaded servers.

One-off use (`extract_isolated`, the CLI): stdin carries one JSON line of options, then the PDF
bytes; stdout carries one JSON object. Servers use `reviewer.extractor_pool.ExtractorPool`: long-lived
children that take length-prefixed requests, so a document does not pay for an interpreter start.

The child's start-up is on the path of every one-off review, so this module imports only the standard
library and pypdf: its records are dataclasses, written as JSON by the child and validated by pydantic
in the parent (`parse_extraction`), where the answer crosses the process boundary.
"""

import dataclasses
import io
import json
import logging
import resource
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from reviewer.errors import IngestError

if TYPE_CHECKING:  # the child interpreter should import as little as possible
    from pydantic import TypeAdapter

    from reviewer.config import IngestSettings


@dataclass
class RawPage:
    text: str
    has_images: bool


@dataclass
class RawExtraction:
    pages: list[RawPage] = field(default_factory=list)
    pagination: str | None = None  # how a .docx was cut into pages (see docx_extract); None for PDFs
    error_code: str | None = None
    error_message: str | None = None


@dataclass
class ExtractionOptions:
    max_pages: int
    memory_bytes: int
    cpu_seconds: int
    password: str | None = None
    max_page_chars: int = 200_000
    max_document_chars: int = 3_000_000
    max_unpacked_bytes: int = 256 * 1024 * 1024


def to_json(record: RawExtraction | ExtractionOptions) -> bytes:
    return json.dumps(dataclasses.asdict(record)).encode()


def options_from_json(line: bytes) -> ExtractionOptions:
    """The parent's options (trusted: the parent wrote them)."""
    return ExtractionOptions(**json.loads(line))


@cache
def _extraction_adapter() -> "TypeAdapter[RawExtraction]":
    from pydantic import TypeAdapter

    return TypeAdapter(RawExtraction)


def parse_extraction(payload: bytes) -> RawExtraction:
    """A child's answer, validated (a child that ran out of memory or was killed answers garbage or
    nothing: a ValueError)."""
    return _extraction_adapter().validate_json(payload)


def page_text_message(page: int, chars: int, limit: int, *, more_than: bool = False) -> str:
    amount = f"more than {limit:,}" if more_than else f"{chars:,}"
    return f"page {page} has {amount} characters of text; the limit is {limit:,} per page"


def document_text_message(chars: int, limit: int, *, more_than: bool = False, by_page: int | None = None) -> str:
    amount = f"more than {limit:,}" if more_than else f"{chars:,}"
    where = f" (reached on page {by_page})" if by_page else ""
    return f"the document has {amount} characters of text{where}; the limit is {limit:,} per document"


class _TooMuchText(BaseException):
    """Raised from pypdf's text visitor to stop extraction the moment a limit is passed. A
    BaseException, because pypdf swallows ordinary exceptions raised while it reads a form XObject."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _TextBudget:
    """Counts the characters pypdf produces, as it produces them (its own concatenation is quadratic,
    so stopping late is not good enough)."""

    def __init__(self, max_page_chars: int, max_document_chars: int) -> None:
        self.max_page_chars = max_page_chars
        self.max_document_chars = max_document_chars
        self.page = 0
        self.page_chars = 0
        self.document_chars = 0

    def start_page(self, number: int) -> None:
        self.page, self.page_chars = number, 0

    def add(self, chars: int) -> None:
        self.page_chars += chars
        self.document_chars += chars
        if self.page_chars > self.max_page_chars:
            raise _TooMuchText(page_text_message(self.page, self.page_chars, self.max_page_chars, more_than=True))
        if self.document_chars > self.max_document_chars:
            raise _TooMuchText(
                document_text_message(self.document_chars, self.max_document_chars, more_than=True, by_page=self.page)
            )

    def visitor(self, text, *_args) -> None:
        self.add(len(text))


def _page_has_images(page) -> bool:
    try:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        if not xobjects:
            return False
        return any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.get_object().values())
    except Exception:
        return False


def extract_any(data: bytes, options: ExtractionOptions) -> RawExtraction:
    """A PDF or a Word file, told apart by its bytes (the parent checked which it is)."""
    if data.startswith(b"PK"):
        from reviewer.docx_extract import extract_docx

        return extract_docx(
            data, options.max_pages, options.max_page_chars, options.max_document_chars, options.max_unpacked_bytes
        )
    return extract(data, options.password, options.max_pages, options.max_page_chars, options.max_document_chars)


def extract(
    data: bytes,
    password: str | None,
    max_pages: int,
    max_page_chars: int = 200_000,
    max_document_chars: int = 3_000_000,
) -> RawExtraction:
    """Extract every page's text. Never raises: failures come back as an error code and message.
    Extraction stops as soon as a page or the whole document passes its character limit."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, WrongPasswordError

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
        budget = _TextBudget(max_page_chars, max_document_chars)
        done = 0  # characters of the pages already extracted
        for number, page in enumerate(reader.pages, start=1):
            budget.start_page(number)
            text = page.extract_text(visitor_text=budget.visitor) or ""
            # the visitor saw pypdf's pieces; the page's text as returned is what counts
            budget.start_page(number)
            budget.document_chars = done
            budget.add(len(text))
            done += len(text)
            pages.append(RawPage(text=text, has_images=False if text.strip() else _page_has_images(page)))
        return RawExtraction(pages=pages)
    except _TooMuchText as exc:
        return RawExtraction(error_code="too_much_text", error_message=exc.message)
    except (FileNotDecryptedError, WrongPasswordError):
        return RawExtraction(error_code="encrypted", error_message="the PDF could not be decrypted")
    except (MemoryError, LimitReachedError):
        return RawExtraction(
            error_code="resource_limit",
            error_message="the PDF needs more memory to extract than allowed (a decompression bomb?)",
        )
    except Exception as exc:  # pypdf raises many types on malformed input
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return RawExtraction(error_code="malformed", error_message=f"the PDF is damaged or malformed ({detail})")


FRAME = struct.Struct(">I")
TIMEOUT_MESSAGE = (
    "text extraction took longer than {seconds:g} s and was stopped (the PDF may be hostile or pathologically complex)"
)
LIMIT_MESSAGE = (
    "text extraction was stopped for exceeding its memory or CPU limit "
    "(the PDF may be hostile or pathologically complex)"
)


def _read_frame(stream) -> bytes | None:
    head = stream.read(FRAME.size)
    if len(head) < FRAME.size:
        return None
    return stream.read(FRAME.unpack(head)[0])


def _serve_many(memory_bytes: int) -> None:
    """A long-lived extractor for ExtractorPool: length-prefixed requests in, results out, until EOF.
    Memory is capped once for the process; wall time is bounded by the parent, which kills and
    replaces a worker that takes too long."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (header := _read_frame(stdin)) is not None:
        options = options_from_json(header)
        data = _read_frame(stdin) or b""
        try:
            result = extract_any(data, options)
        except MemoryError:
            result = RawExtraction(error_code="resource_limit", error_message="extraction ran out of memory")
        payload = to_json(result)
        stdout.write(FRAME.pack(len(payload)) + payload)
        stdout.flush()


def _serve_one() -> None:
    import pypdf  # noqa: F401  (imported while the parent gets ready, before the document arrives)

    line = sys.stdin.buffer.readline()
    if not line.strip():  # the parent went away without sending a document
        return
    options = options_from_json(line)
    resource.setrlimit(resource.RLIMIT_AS, (options.memory_bytes, options.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (options.cpu_seconds, options.cpu_seconds + 1))
    data = sys.stdin.buffer.read()
    try:
        result = extract_any(data, options)
    except MemoryError:
        result = RawExtraction(error_code="resource_limit", error_message="extraction ran out of memory")
    sys.stdout.buffer.write(to_json(result))


class OneOffExtractor:
    """A child interpreter for one document, started before the document is at hand: it starts and
    imports pypdf while the caller loads its settings, then waits for its options and bytes. Used as a
    context manager, so a child whose document never came is stopped."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reviewer.pdf_extract"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.used = False

    def __enter__(self) -> "OneOffExtractor":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()

    def run(self, data: bytes, options: ExtractionOptions, timeout_seconds: float) -> bytes:
        """Send the document; the child's answer. The wall-time bound starts now."""
        if self.used:
            raise RuntimeError("a one-off extractor takes one document")
        self.used = True
        try:
            out, _ = self.process.communicate(to_json(options) + b"\n" + data, timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            self.close()
            raise
        return out


def extract_isolated(
    data: bytes, password: str | None, limits: "IngestSettings", extractor: OneOffExtractor | None = None
) -> RawExtraction:
    """Run `extract` in a child interpreter bounded in wall time, CPU time and memory (in `extractor`, if
    the caller started one ahead)."""
    options = ExtractionOptions(
        password=password,
        max_pages=limits.max_pages,
        memory_bytes=limits.memory_bytes,
        cpu_seconds=max(1, int(limits.timeout_seconds) + 1),
        max_page_chars=limits.max_page_chars,
        max_document_chars=limits.max_document_chars,
        max_unpacked_bytes=limits.max_unpacked_bytes,
    )
    with extractor or OneOffExtractor() as child:
        try:
            out = child.run(data, options, limits.timeout_seconds)
        except subprocess.TimeoutExpired:
            raise IngestError(
                TIMEOUT_MESSAGE.format(seconds=limits.timeout_seconds), code="extraction_timeout"
            ) from None
    try:
        return parse_extraction(out)
    except ValueError:
        raise IngestError(LIMIT_MESSAGE, code="resource_limit") from None


def max_result_bytes(options: ExtractionOptions) -> int:
    """The most a well-behaved child can answer within the text limits: every character escaped in
    JSON (at most 6 bytes) plus room for each page's fields and an error message."""
    return 6 * options.max_document_chars + 256 * options.max_pages + 65_536


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        _serve_many(int(sys.argv[2]))
    else:
        _serve_one()
