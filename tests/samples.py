"""The sample proposals, extracted once per test session: extraction runs in a child process (bounded in
time and memory), so reading the same sample again in each test would start an interpreter each time."""

import functools
from pathlib import Path

from reviewer.documents import Document, read_document

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@functools.cache
def _extracted(path: Path) -> Document:
    return read_document(path.read_bytes(), path.name)


def sample_document(path: Path | str) -> Document:
    """The Document of a sample file (a name in samples/, or any path); a copy, so no test can change another's."""
    path = Path(path)
    return _extracted((SAMPLES / path if not path.is_absolute() else path).resolve()).model_copy(deep=True)


@functools.cache
def _sample_hashes() -> frozenset[str]:
    import hashlib

    return frozenset(hashlib.sha256(p.read_bytes()).hexdigest() for p in SAMPLES.rglob("*.pdf"))


def cached_for_samples(read):
    """`read` (reviewer's read_pdf/read_document) answering from the session's extractions for the sample
    files' exact bytes, and reading anything else as before."""
    import hashlib

    cache: dict[tuple[str, str], Document] = {}

    def reading(data: bytes, file_name: str, *args, **kwargs) -> Document:
        digest = hashlib.sha256(data).hexdigest()
        if digest not in _sample_hashes() or args or set(kwargs) - {"limits"}:
            return read(data, file_name, *args, **kwargs)
        key = (digest, file_name)
        if key not in cache:
            cache[key] = read(data, file_name, *args, **kwargs)
        return cache[key].model_copy(deep=True)

    return reading
