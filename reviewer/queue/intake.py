"""Intake: the one place a review job is queued. "These bytes, this rubric, this backend, this vendor"
becomes a job in the store (or the existing job for the same file under the same rubric version,
backend and model), with the file kept by content hash and a worker woken. The API, Slack and bulk
review all queue through here."""

import asyncio
import hashlib

from pydantic import BaseModel, ConfigDict

from reviewer.config import Settings
from reviewer.documents import check_document_bytes, safe_file_name
from reviewer.grading.base import resolve_backend_name
from reviewer.queue.runner import JobRunner
from reviewer.rubric import Rubric, RubricCatalog
from reviewer.store import NO_MODEL, JobRecord, NewJob


class ReviewTarget(BaseModel):
    """What a job is reviewed under: rubric (as the catalog names its file), backend and model."""

    model_config = ConfigDict(frozen=True)

    rubric_name: str
    rubric: Rubric
    backend: str
    model: str
    blind: bool = False

    @classmethod
    def resolve(
        cls,
        settings: Settings,
        catalog: RubricCatalog,
        runner: JobRunner,
        rubric: str,
        backend: str | None,
        *,
        blind: bool = False,
    ) -> "ReviewTarget":
        """Validated once per request or run: raises for an unknown rubric, or a backend that is
        unknown or not configured (so a job that could never run is refused before it is queued).
        Blind when asked, when the server is (REVIEWER_BLIND) or when the rubric says `blind: true`."""
        rubric_name, loaded = catalog.resolve(rubric)
        backend_name = resolve_backend_name(backend, settings)
        grader = runner.backend_for(backend_name)
        model = NO_MODEL if grader.offline else runner.settings.model_for(backend_name) or NO_MODEL
        blind = blind or settings.grading.blind or loaded.blind
        return cls(rubric_name=rubric_name, rubric=loaded, backend=backend_name, model=model, blind=blind)


class Intake:
    """Queues review jobs into the runner's store and file store."""

    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        self.store = runner.store
        self.files = runner.files
        self.settings = runner.settings

    async def enqueue(
        self,
        data: bytes,
        file_name: str,
        target: ReviewTarget,
        *,
        vendor_name: str | None = None,
        force: bool = False,
        password: str | None = None,
        actor: str = "system",
    ) -> tuple[JobRecord, bool]:
        """(job, deduplicated). Raises the ingest error for bytes that are not a usable document.
        `password` (an encrypted PDF's) is held in this process's memory for the job's run, never stored."""
        check_document_bytes(data, self.settings.ingest)
        sha256 = hashlib.sha256(data).hexdigest()
        if not force:
            existing = await asyncio.to_thread(
                self.store.find_same,
                sha256,
                target.rubric.id,
                target.rubric.version,
                target.backend,
                target.model,
                target.blind,
            )
            if existing is not None:
                given = (vendor_name or "").strip()
                if given and given != existing.vendor_name:  # costs nothing: the name is ours, not the grader's
                    existing = await asyncio.to_thread(self.store.rename_vendor, existing.id, given) or existing
                return existing, True
        new = NewJob(
            file_name=safe_file_name(file_name or "proposal.pdf"),
            vendor_name=(vendor_name or "").strip() or None,
            sha256=sha256,
            size_bytes=len(data),
            rubric_name=target.rubric_name,
            rubric_id=target.rubric.id,
            rubric_version=target.rubric.version,
            backend=target.backend,
            model=target.model,
            blind=target.blind,
        )
        if password:  # before the job exists, so a worker that claims it at once finds the password
            self.runner.passwords.hold(sha256, password)
        try:
            # The file and the job that references it, as one step against a delete of the same file.
            job, created = await asyncio.to_thread(
                self.files.put_for, sha256, data, lambda: self.store.create_or_get(new, force=force)
            )
        except BaseException:
            if password:
                self.runner.passwords.release(sha256)
            raise
        if password and not created:
            self.runner.passwords.release(sha256)
        if created:
            details: dict[str, object] = {"file_name": job.file_name, "rubric": job.rubric_name, "backend": job.backend}
            if job.blind:
                details["blind"] = True
            await asyncio.to_thread(self.store.record_event, job.id, actor, "review_created", after=details)
            self.runner.notify()
        return job, not created  # another process may have queued the same file since the look above

    async def delete(self, job_id: str) -> JobRecord | None:
        """Delete a job, and its stored file when no other job (of any status) references it; the
        reference count and the removal are one step against a re-upload of the same file."""
        job = await asyncio.to_thread(self.store.delete, job_id)
        if job is not None:
            await asyncio.to_thread(self.files.discard, job.sha256, lambda: self.store.references(job.sha256) > 0)
        return job
