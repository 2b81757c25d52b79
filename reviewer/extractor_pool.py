"""Long-lived extractor processes for a server (the child side is reviewer.pdf_extract)."""

import asyncio
import sys
from typing import TYPE_CHECKING

from reviewer.errors import IngestError
from reviewer.pdf_extract import (
    FRAME,
    LIMIT_MESSAGE,
    TIMEOUT_MESSAGE,
    ExtractionOptions,
    RawExtraction,
    max_result_bytes,
    parse_extraction,
    to_json,
)

if TYPE_CHECKING:
    from reviewer.config import IngestSettings


class ResultTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class _PoolWorker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def request(self, options: ExtractionOptions, data: bytes) -> RawExtraction:
        header = to_json(options)
        self.process.stdin.write(FRAME.pack(len(header)) + header + FRAME.pack(len(data)) + data)
        await self.process.stdin.drain()
        size = FRAME.unpack(await self.process.stdout.readexactly(FRAME.size))[0]
        if size > max_result_bytes(options):
            raise ResultTooLarge(size)
        return parse_extraction(await self.process.stdout.readexactly(size))

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
