"""Turning one uploaded PDF into a queued review job (or the existing one): shared by /v1/reviews and
/v1/batches so both validate, deduplicate and store uploads the same way."""

import asyncio
import hashlib

from fastapi import UploadFile

from reviewer.api.errors import ApiError
from reviewer.config import Settings
from reviewer.documents import check_pdf_bytes, safe_file_name
from reviewer.grading.base import resolve_backend_name
from reviewer.jobs import JobRunner
from reviewer.rubric import RubricCatalog
from reviewer.store import NO_MODEL, FileStore, JobRecord, JobStore, NewJob


async def read_upload(file: UploadFile, max_bytes: int) -> bytes:
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError(413, "too_large", f"the file is over the limit of {max_bytes / 1_048_576:.1f} MB")
    return data


class JobTarget:
    """What every upload of one request is reviewed under: rubric, backend and model (validated once)."""

    def __init__(
        self, settings: Settings, catalog: RubricCatalog, runner: JobRunner, rubric: str, backend: str | None
    ) -> None:
        self.rubric_name, self.rubric = catalog.resolve(rubric)
        self.backend = resolve_backend_name(backend, settings)
        grader = runner.backend_for(self.backend)  # raises if the backend is unknown or not configured
        self.model = NO_MODEL if grader.offline else settings.model


async def enqueue(
    data: bytes,
    file_name: str,
    vendor_name: str | None,
    target: JobTarget,
    *,
    force: bool,
    settings: Settings,
    store: JobStore,
    files: FileStore,
    runner: JobRunner,
) -> tuple[JobRecord, bool]:
    """(job, deduplicated). Raises the ingest error for bytes that are not a usable PDF."""
    check_pdf_bytes(data, settings.ingest)
    sha256 = hashlib.sha256(data).hexdigest()
    if not force:
        existing = await asyncio.to_thread(
            store.find_same, sha256, target.rubric.id, target.rubric.version, target.backend, target.model
        )
        if existing is not None:
            return existing, True
    await asyncio.to_thread(files.put, sha256, data)
    job = await asyncio.to_thread(
        store.create,
        NewJob(
            file_name=safe_file_name(file_name or "proposal.pdf"),
            vendor_name=(vendor_name or "").strip() or None,
            sha256=sha256,
            size_bytes=len(data),
            rubric_name=target.rubric_name,
            rubric_id=target.rubric.id,
            rubric_version=target.rubric.version,
            backend=target.backend,
            model=target.model,
        ),
    )
    runner.notify()
    return job, False
