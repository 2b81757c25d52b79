"""A reviewed proposal's pages for people to read: each page's text as the grader read it (the stored file
extracted again, so citation offsets index into it) and, for a PDF, the page as a picture. Both are cached
in memory, bounded, per content hash; nothing is written to disk beside the stored upload."""

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from reviewer.config import Settings
from reviewer.documents import HEADER_SEARCH_BYTES, PDF_MAGIC, Document, read_document
from reviewer.errors import ReviewerError
from reviewer.page_image import RenderOptions, Unmaskable, render_isolated
from reviewer.store import FileStore

K = TypeVar("K")
V = TypeVar("V")
DOCUMENTS_CACHED = 32  # a blind comparison masks every vendor's files on each view: a panel's whole evaluation
IMAGES_CACHED = 64


class StoredFile(Protocol):
    """A JobRecord (the proposal) or a RoundRecord (an answer)."""

    @property
    def sha256(self) -> str: ...

    @property
    def file_name(self) -> str: ...


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size, self._items, self._lock = size, OrderedDict[K, V](), threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: another page may be read meanwhile
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


class ProposalPages:
    """Pages of a review's files: the proposal (`job`) or a clarification round's answer (a RoundRecord),
    both named by their stored hash and file name."""

    def __init__(self, files: FileStore, settings: Settings, render: Callable = render_isolated) -> None:
        self.files, self.settings, self._render = files, settings, render
        self._documents: _Lru[str, Document | str] = _Lru(DOCUMENTS_CACHED)
        self._images: _Lru[tuple[str, int, tuple[str, ...], int], bytes | Unmaskable | None] = _Lru(IMAGES_CACHED)

    def _stored(self, part: StoredFile) -> bytes | None:
        try:
            return self.files.get(part.sha256)
        except (OSError, ValueError):
            return None

    def _read(self, part: StoredFile) -> Document | str:
        data = self._stored(part)
        if data is None:
            return "the file is no longer stored"
        try:
            return read_document(data, part.file_name, limits=self.settings.ingest)
        except ReviewerError as exc:  # e.g. a password-protected PDF: its password was never kept
            return f"the file could not be read again ({exc.message})"

    def document(self, part: StoredFile) -> Document | str:
        """The file as the grader read it, or why it cannot be shown (a sentence)."""
        if not self.files.path(part.sha256).exists():
            return "the file is no longer stored"
        return self._documents.get(part.sha256, lambda: self._read(part))

    def image(
        self, part: StoredFile, number: int, hide: tuple[str, ...] = (), expected: int = 0
    ) -> bytes | Unmaskable | None:
        """Page `number` of a PDF as PNG bytes, with `hide` blacked out (`expected`: the occurrences the masking
        counted on the page; reviewer.page_image); why it cannot be masked; None for a Word file or a page
        that does not render."""
        if not self.files.path(part.sha256).exists():
            return None

        def make() -> bytes | Unmaskable | None:
            data = self._stored(part)
            if data is None or PDF_MAGIC not in data[:HEADER_SEARCH_BYTES]:
                return None
            return self._render(data, RenderOptions(page=number, hide=list(hide), expected=expected))

        return self._images.get((part.sha256, number, hide, expected), make)
