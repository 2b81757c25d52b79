"""Text extraction with pypdf (and, for Word files, docx_extract), run in a child process so a hostile
file cannot hang or exhaust the caller.

pypdf has no per-document time limit, so the parent waits a bounded time and kills the child; the
child caps its own address space (RLIMIT_AS) and CPU time before it parses anything, so a
decompression bomb or a pathological file fails inside it. The child is a fresh interpreter
(`python -m reviewer.pdf_extract`), not a fork, so it is safe to call from threaded servers.

One-off use (`extract_isolated`, the CLI): stdin carries one JSON line of options, then the PDF
bytes; stdout carries one JSON object. Servers use `ExtractorPool`: long-lived children that take
length-prefixed requests, so a document does not pay for an interpreter start.
"""

import asyncio
import io
import logging
import resource
import struct
import subprocess
import sys
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from reviewer.errors import IngestError

if TYPE_CHECKING:  # the child interpreter should import as little as possible
    from reviewer.config import IngestSettings


class RawPage(BaseModel):
    text: str
    has_images: bool


class RawExtraction(BaseModel):
    pages: list[RawPage] = Field(default_factory=list)
    pagination: str | None = None  # how a .docx was cut into pages (see docx_extract); None for PDFs
    error_code: str | None = None
    error_message: str | None = None


class ExtractionOptions(BaseModel):
    password: str | None = None
    max_pages: int
    memory_bytes: int
    cpu_seconds: int
    max_page_chars: int = 200_000
    max_document_chars: int = 3_000_000
    max_unpacked_bytes: int = 256 * 1024 * 1024


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
        options = ExtractionOptions.model_validate_json(header)
        data = _read_frame(stdin) or b""
        try:
            result = extract_any(data, options)
        except MemoryError:
            result = RawExtraction(error_code="resource_limit", error_message="extraction ran out of memory")
        payload = result.model_dump_json().encode()
        stdout.write(FRAME.pack(len(payload)) + payload)
        stdout.flush()


def _serve_one() -> None:
    options = ExtractionOptions.model_validate_json(sys.stdin.buffer.readline())
    resource.setrlimit(resource.RLIMIT_AS, (options.memory_bytes, options.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (options.cpu_seconds, options.cpu_seconds + 1))
    data = sys.stdin.buffer.read()
    try:
        result = extract_any(data, options)
    except MemoryError:
        result = RawExtraction(error_code="resource_limit", error_message="extraction ran out of memory")
    sys.stdout.write(result.model_dump_json())


def extract_isolated(data: bytes, password: str | None, limits: "IngestSettings") -> RawExtraction:
    """Run `extract` in a child interpreter bounded in wall time, CPU time and memory."""
    options = ExtractionOptions(
        password=password,
        max_pages=limits.max_pages,
        memory_bytes=limits.memory_bytes,
        cpu_seconds=max(1, int(limits.timeout_seconds) + 1),
        max_page_chars=limits.max_page_chars,
        max_document_chars=limits.max_document_chars,
        max_unpacked_bytes=limits.max_unpacked_bytes,
    )
    try:
        child = subprocess.run(
            [sys.executable, "-m", "reviewer.pdf_extract"],
            input=options.model_dump_json().encode() + b"\n" + data,
            capture_output=True,
            timeout=limits.timeout_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise IngestError(TIMEOUT_MESSAGE.format(seconds=limits.timeout_seconds), code="extraction_timeout") from None
    try:
        return RawExtraction.model_validate_json(child.stdout)
    except ValueError:
        raise IngestError(LIMIT_MESSAGE, code="resource_limit") from None


def max_result_bytes(options: ExtractionOptions) -> int:
    """The most a well-behaved child can answer within the text limits: every character escaped in
    JSON (at most 6 bytes) plus room for each page's fields and an error message."""
    return 6 * options.max_document_chars + 256 * options.max_pages + 65_536


class ResultTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class _PoolWorker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def request(self, options: ExtractionOptions, data: bytes) -> RawExtraction:
        header = options.model_dump_json().encode()
        self.process.stdin.write(FRAME.pack(len(header)) + header + FRAME.pack(len(data)) + data)
        await self.process.stdin.drain()
        size = FRAME.unpack(await self.process.stdout.readexactly(FRAME.size))[0]
        if size > max_result_bytes(options):
            raise ResultTooLarge(size)
        return RawExtraction.model_validate_json(await self.process.stdout.readexactly(size))

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


class ExtractorPool:
    """Long-lived extractor processes for a server: the same isolation as extract_isolated without
    paying an interpreter start per document. At most `size` extractions run at once."""

    def __init__(self, size: int, limits: "IngestSettings") -> None:
        self.limits = limits
        self._size = size
        self._slots = asyncio.Semaphore(size)
        self._idle: list[_PoolWorker] = []
        self._all: set[_PoolWorker] = set()

    async def start(self) -> None:
        """Start every extractor now (each costs an interpreter start), not when the first documents arrive."""
        while len(self._all) < self._size:
            self._idle.append(await self._spawn())

    async def _spawn(self) -> _PoolWorker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "reviewer.pdf_extract",
            "--serve",
            str(self.limits.memory_bytes),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        worker = _PoolWorker(process)
        self._all.add(worker)
        return worker

    def _discard(self, worker: _PoolWorker) -> None:
        worker.kill()
        self._all.discard(worker)

    async def extract(self, data: bytes, password: str | None = None) -> RawExtraction:
        options = ExtractionOptions(
            password=password,
            max_pages=self.limits.max_pages,
            memory_bytes=self.limits.memory_bytes,
            cpu_seconds=0,
            max_page_chars=self.limits.max_page_chars,
            max_document_chars=self.limits.max_document_chars,
            max_unpacked_bytes=self.limits.max_unpacked_bytes,
        )
        async with self._slots:
            worker = self._idle.pop() if self._idle else await self._spawn()
            try:
                async with asyncio.timeout(self.limits.timeout_seconds):
                    result = await worker.request(options, data)
            except TimeoutError:
                self._discard(worker)
                raise IngestError(
                    TIMEOUT_MESSAGE.format(seconds=self.limits.timeout_seconds), code="extraction_timeout"
                ) from None
            except ResultTooLarge as exc:
                self._discard(worker)
                raise IngestError(
                    f"the extracted text is {exc.size:,} bytes, more than the text limits allow "
                    f"({self.limits.max_document_chars:,} characters per document)",
                    code="too_much_text",
                ) from None
            except (asyncio.IncompleteReadError, BrokenPipeError, ConnectionResetError, ValueError):
                self._discard(worker)
                raise IngestError(LIMIT_MESSAGE, code="resource_limit") from None
            except BaseException:
                self._discard(worker)
                raise
            self._idle.append(worker)
            return result

    async def close(self) -> None:
        for worker in list(self._all):
            if worker.process.returncode is None:
                worker.process.stdin.close()
                try:
                    async with asyncio.timeout(2):
                        await worker.process.wait()
                except TimeoutError:
                    worker.kill()
        self._all.clear()
        self._idle.clear()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        _serve_many(int(sys.argv[2]))
    else:
        _serve_one()
