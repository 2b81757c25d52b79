"""What a bulk rerun can know without opening the store: whether it was given exactly what the last run into
the same folder was given, against a store nobody has written to since.

A run records, in its output folder's manifest (reviewer/exports.py), a digest of what it was given (the
proposals' bytes, the rubric's content, backend, settings, options, this reviewer's version) together with a
fingerprint of the store's files, and the lines a rerun would print. It records them only when nothing failed
and the store's files were the same after the outputs were read from it as when the run had finished writing
to it (its workers stopped, its connections closed): then the outputs are what that store holds, and a later
run with the same digest, whose output files still hold what was written, can say so and stop (no store, no
rendering). Anything else takes the full path.

The store's fingerprint is taken from its files: a SQLite database and its write-ahead log (every committed
write lands in the log first, and the log's bytes are hashed). Other databases (PostgreSQL) have no cheap
look, and their runs always take the full path."""

import hashlib
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from reviewer import __version__
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.config import Settings
    from reviewer.rubric import Rubric
    from reviewer.sources import Source

SQLITE_PREFIX = "sqlite:///"


class Replay(BaseModel):
    """What a run that found nothing to do printed, for a rerun with the same digest to print again."""

    digest: str
    lines: list[str]
    skipped: int  # proposals already reviewed (distinct documents)


def store_fingerprint(database_url: str) -> str | None:
    """The SQLite store's files as they are now (identity, size, modification time; the write-ahead log's
    bytes); None for a database that is not a SQLite file, which has no such look."""
    if not database_url.startswith(SQLITE_PREFIX) or "?" in database_url:
        return None
    path = Path(database_url.removeprefix(SQLITE_PREFIX))
    if not path.name or path.name == ":memory:":
        return None
    parts: list[object] = []
    for file, hash_bytes in ((path, False), (path.with_name(f"{path.name}-wal"), True)):
        try:
            st = file.stat()
            content = hashlib.sha256(file.read_bytes()).hexdigest() if hash_bytes else None
        except FileNotFoundError:
            parts.append(None)
            continue
        except OSError:
            return None
        parts.append([st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, content])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def run_given(
    sources: "list[Source]",
    settings: "Settings",
    rubric_name: str,
    rubric: "Rubric",
    backend: str,
    *,
    vendors: Mapping[str, str],
    blind: bool,
    anonymize: bool,
    mandatory: str,
    batch_api: bool,
) -> dict[str, object]:
    """What a bulk run is given, as JSON: every readable proposal's hash by name (one that cannot be read is
    left out, and fails the run), the rubric's content, the backend (and the entry point that provides it),
    every setting (secrets only as set or unset: pydantic writes them as asterisks), the database, and the
    command's options."""
    from reviewer.grading.base import backend_entry_points

    proposals: dict[str, str] = {}
    for source in sources:
        try:
            proposals[source.name] = hashlib.sha256(source.read(settings.ingest.max_file_bytes)).hexdigest()
        except (ReviewerError, OSError, ValueError, zipfile.BadZipFile):
            continue
    return {
        "proposals": proposals,
        "rubric": {"name": rubric_name, "content": rubric.model_dump(mode="json")},
        "backend": backend,
        "backend_entry_points": backend_entry_points(backend),
        "blind": blind,
        "settings": settings.model_dump(mode="json"),
        "database": settings.storage.resolved_database_url,
        "vendors": dict(vendors),
        "anonymize": anonymize,
        "mandatory": mandatory,
        "batch_api": batch_api,
    }


def run_digest(given: Mapping[str, object], store: str) -> str:
    """One sha256 over a canonical JSON of what a bulk run was given, the store's fingerprint and this version."""
    document = {"reviewer": __version__, "given": given, "store": store}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def replay_for_rerun(
    given: Mapping[str, object],
    database_url: str,
    settled: str | None,
    proposals_read: Mapping[str, str],
    lines: list[str],
    skipped: int,
    *,
    clean: bool,
) -> Replay | None:
    """What a rerun given the same may print instead of running, once this run has read its outputs from the
    store: only when the run was `clean` (nothing failed, no --force: after one the store holds two reviews
    of each document, and which one a rerun shows is the store's to say), read the proposals it was given,
    and nobody wrote to the store since its workers settled (`settled`, the store's fingerprint then)."""
    if not clean or settled is None or proposals_read != given["proposals"]:
        return None
    if store_fingerprint(database_url) != settled:
        return None
    return Replay(digest=run_digest(given, settled), lines=lines, skipped=skipped)
