"""Uploaded files, one per content hash, written atomically, and removed only when no job needs them.

A file is shared by every job of the same content. Storing a file and recording its job, or deleting a
job and removing its file when nothing else references it, happen under one lock per content hash, held
across threads and processes that share the directory (flock on a lock file), so a delete racing a
re-upload of the same file never removes the file under the new job (issue 13)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from reviewer.output import replace_atomically

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the lock holds within this process only
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
LOCK_STRIPES = 256  # lock files by the hash's first two hex digits: a bounded number, never cleaned up


class FileStore:
    """Uploaded PDFs, one file per content hash, written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._locks_dir = directory / ".locks"
        self._locks_dir.mkdir(exist_ok=True)
        self._thread_locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.directory / f"{sha256}.pdf"

    @contextmanager
    def lock(self, sha256: str) -> Iterator[None]:
        """Exclusive hold on one content hash (blocking: call it in a thread from an event loop)."""
        self.path(sha256)
        stripe = sha256[:2]
        with self._thread_locks[int(stripe, 16)], open(self._locks_dir / f"{stripe}.lock", "a+b") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def put(self, sha256: str, data: bytes) -> None:
        target = self.path(sha256)
        if target.exists():
            return
        replace_atomically(target, data)

    def put_for(self, sha256: str, data: bytes, record: Callable[[], T]) -> T:
        """Store the file and record the job that references it (`record`) as one step against `discard`."""
        with self.lock(sha256):
            self.put(sha256, data)
            return record()

    def discard(self, sha256: str, still_referenced: Callable[[], bool]) -> bool:
        """Remove the file unless `still_referenced()` says a job still names it, decided under the lock;
        True when removed."""
        with self.lock(sha256):
            if still_referenced():
                return False
            self.delete(sha256)
            return True

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)
