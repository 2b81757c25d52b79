"""Bulk review: every proposal of an RFP (a folder, a zip, or files) reviewed under one rubric through the
same job store and workers as the API, so a run is resumable and an interrupted run loses nothing that
finished. Documents are read one at a time and not held in memory."""

import asyncio
import csv
import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import yaml
from pydantic import BaseModel

from reviewer.comparison import Comparison, Entry
from reviewer.config import Settings
from reviewer.documents import check_pdf_bytes, safe_file_name
from reviewer.errors import BadInputError, ReviewerError
from reviewer.grading.base import create_backend
from reviewer.jobs import BackendFactory, JobRunner
from reviewer.progress import Progress
from reviewer.review import Review, Usage
from reviewer.rubric import RubricCatalog
from reviewer.store import NO_MODEL, FileStore, JobStatus, JobStore, NewJob, make_engine

MAX_ZIP_MEMBERS = 1000
ZIP_ENCRYPTED = 0x1  # general purpose flag bit 0


class Source(BaseModel):
    """One proposal to review: a display name and where its bytes come from."""

    name: str
    path: Path
    member: str | None = None  # inside a zip file

    def read(self, max_bytes: int) -> bytes:
        if self.member is None:
            if self.path.stat().st_size > max_bytes:
                raise BadInputError(f"{self.name}: over the size limit", code="too_large")
            return self.path.read_bytes()
        try:
            with zipfile.ZipFile(self.path) as archive:
                info = archive.getinfo(self.member)
                if info.file_size > max_bytes:
                    raise BadInputError(f"{self.name}: over the size limit", code="too_large")
                if info.flag_bits & ZIP_ENCRYPTED:
                    raise BadInputError(
                        f"{self.name}: encrypted inside {self.path.name}; unzip it with its password first",
                        code="encrypted",
                    )
                with archive.open(info) as handle:
                    data = handle.read(max_bytes + 1)
        except NotImplementedError:
            raise BadInputError(
                f"{self.name}: stored in {self.path.name} with a compression method we cannot read", code="bad_zip"
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError):
            raise BadInputError(
                f"{self.name}: damaged inside {self.path.name} (its compressed data cannot be read back)",
                code="bad_zip",
            ) from None
        if len(data) > max_bytes:
            raise BadInputError(f"{self.name}: over the size limit", code="too_large")
        return data


def collect_sources(paths: list[Path]) -> list[Source]:
    """PDFs from folders (recursively), zip files (their .pdf members) and PDF files, by name, once each."""
    sources: dict[str, Source] = {}

    def add(source: Source) -> None:
        name, n = source.name, 2
        while name in sources:  # two files of the same name in different folders
            name = f"{Path(source.name).stem} ({n}){Path(source.name).suffix}"
            n += 1
        sources[name] = source.model_copy(update={"name": name})

    for path in paths:
        if path.is_dir():
            for pdf in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf"):
                add(Source(name=safe_file_name(pdf.name), path=pdf))
        elif path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [
                    m
                    for m in archive.infolist()
                    if not m.is_dir() and m.filename.lower().endswith(".pdf") and "__MACOSX" not in m.filename
                ]
            if len(members) > MAX_ZIP_MEMBERS:
                raise BadInputError(f"{path}: more than {MAX_ZIP_MEMBERS} PDFs in the zip", code="too_many_files")
            for member in sorted(members, key=lambda m: m.filename):
                add(Source(name=safe_file_name(member.filename), path=path, member=member.filename))
        elif path.is_file():
            add(Source(name=safe_file_name(path.name), path=path))
        else:
            raise BadInputError(f"{path}: no such file or folder", code="unreadable_file")
    if not sources:
        raise BadInputError("no PDF files found in the given paths", code="no_inputs")
    return list(sources.values())


def load_vendor_mapping(path: Path) -> dict[str, str]:
    """File name -> vendor name, from YAML/JSON (a mapping) or CSV (two columns: file, vendor)."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".csv":
            rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
            if rows and rows[0][0].strip().lower() in {"file", "file_name", "filename"}:
                rows = rows[1:]
            mapping = {r[0].strip(): r[1].strip() for r in rows if len(r) >= 2}
        else:
            mapping = yaml.safe_load(text) if path.suffix.lower() in {".yaml", ".yml"} else json.loads(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise BadInputError(
            f"{path}: cannot read the vendor mapping ({type(exc).__name__})", code="bad_mapping"
        ) from None
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise BadInputError(f"{path}: the vendor mapping must map file names to vendor names", code="bad_mapping")
    return mapping


def default_vendor(file_name: str) -> str:
    return Path(file_name).stem.replace("_", " ").replace("-", " ").strip().title() or file_name


class BulkResult(BaseModel):
    entries: list[Entry]
    reviewed: int
    skipped: int
    failed: int
    usage: Usage


async def run_bulk(
    sources: list[Source],
    rubric_name: str,
    backend_name: str,
    settings: Settings,
    catalog: RubricCatalog,
    *,
    force: bool = False,
    vendors: dict[str, str] | None = None,
    backend_factory: BackendFactory = create_backend,
    progress: Progress | None = None,
    on_event: Callable[[str], None] | None = None,
    batch_api: bool = False,
) -> BulkResult:
    vendors = vendors or {}
    store = JobStore(make_engine(settings.resolved_database_url))
    files = FileStore(settings.data_dir / "uploads")
    runner = JobRunner(store, files, settings, catalog, backend_factory)
    rubric_file, rubric = catalog.resolve(rubric_name)
    backend = runner.backend_for(backend_name)
    model = NO_MODEL if backend.offline else settings.model

    job_of: dict[str, str] = {}  # source name -> job id
    failures: dict[str, str] = {}
    already_done: set[str] = set()
    if progress:
        progress.total = len(sources)
    usage = Usage()
    finished_failed = 0
    if not batch_api:
        await runner.start()  # workers start on the first jobs while the rest are still being queued
    try:
        for source in sources:
            try:
                data = await asyncio.to_thread(source.read, settings.ingest.max_file_bytes)
                check_pdf_bytes(data, settings.ingest)
            except (ReviewerError, OSError, zipfile.BadZipFile) as exc:
                failures[source.name] = exc.message if isinstance(exc, ReviewerError) else f"cannot read: {exc}"
                if progress:
                    progress.advance(failed=True)
                continue
            sha256 = hashlib.sha256(data).hexdigest()
            existing = None if force else store.find_same(sha256, rubric.id, rubric.version, backend_name, model)
            if existing is not None:
                job_of[source.name] = existing.id
                if existing.status is JobStatus.DONE:
                    already_done.add(existing.id)
                continue
            await asyncio.to_thread(files.put, sha256, data)
            job = await asyncio.to_thread(
                store.create,
                NewJob(
                    file_name=source.name,
                    vendor_name=vendors.get(source.name),
                    sha256=sha256,
                    size_bytes=len(data),
                    rubric_name=rubric_file,
                    rubric_id=rubric.id,
                    rubric_version=rubric.version,
                    backend=backend_name,
                    model=model,
                ),
            )
            job_of[source.name] = job.id
            runner.notify()
            del data

        if batch_api:
            await run_message_batch(
                [i for i in job_of.values() if i not in already_done],
                store,
                runner,
                settings,
                catalog,
                progress=progress,
                on_event=on_event,
            )
        pending = set(job_of.values())
        while pending:
            statuses = await asyncio.to_thread(store.statuses, list(pending))
            finished = [i for i in pending if statuses.get(i) in (None, JobStatus.DONE, JobStatus.FAILED)]
            for job_id in finished:
                pending.discard(job_id)
                job = await asyncio.to_thread(store.get, job_id)
                failed = job is None or job.status is JobStatus.FAILED
                finished_failed += failed
                if job is not None and job.result and job_id not in already_done:
                    usage += Review.model_validate_json(job.result).usage
                if progress:
                    progress.advance(
                        failed=failed,
                        extra=f"{usage.input_tokens + usage.output_tokens:,} tokens, ${usage.estimated_cost_usd:.2f}",
                    )
                if on_event and job is not None and failed:
                    on_event(f"{job.file_name}: {job.error_code}: {job.error_message}")
            if pending:
                await asyncio.sleep(0.2)
    finally:
        if batch_api:
            await runner.extractor.close()
        else:
            await runner.stop()

    entries = []
    for source in sources:
        if source.name in failures:
            entries.append(
                Entry(
                    vendor=vendors.get(source.name) or default_vendor(source.name),
                    file_name=source.name,
                    error=failures[source.name],
                )
            )
            continue
        job = store.get(job_of[source.name])
        review = Review.model_validate_json(job.result) if job and job.result else None
        vendor = vendors.get(source.name) or (review.vendor_name if review else None) or default_vendor(source.name)
        error = None if review else (f"{job.error_code}: {job.error_message}" if job else "deleted")
        entries.append(
            Entry(vendor=vendor, file_name=source.name, review_id=job.id if job else None, review=review, error=error)
        )
    store.engine.dispose()
    return BulkResult(
        entries=entries,
        reviewed=len(job_of) - len(already_done) - finished_failed,
        skipped=len(already_done),
        failed=len(failures) + finished_failed,
        usage=usage,
    )


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text).strip("-") or "vendor"


def write_outputs(
    out_dir: Path, comparison: Comparison, entries: list[Entry], key: dict[str, str] | None
) -> list[Path]:
    """comparison.{csv,xlsx,html,md}, reports/<vendor>.{md,json}, and the anonymisation key if any."""
    from reviewer.output import write_atomically
    from reviewer.render import comparison as render
    from reviewer.render.markdown import render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("comparison.csv", render.to_csv(comparison)),
        ("comparison.md", render.to_markdown(comparison)),
        ("comparison.html", render.to_html(comparison)),
    ):
        write_atomically(out_dir / name, text)
        written.append(out_dir / name)
    xlsx = out_dir / "comparison.xlsx"
    tmp = xlsx.with_suffix(".xlsx.part")
    tmp.write_bytes(render.to_xlsx(comparison))
    tmp.replace(xlsx)
    written.append(xlsx)
    reports = out_dir / "reports"
    for entry in entries:
        if entry.review is None:
            continue
        stem = _slug(entry.vendor)
        write_atomically(reports / f"{stem}.md", render_markdown(entry.review))
        write_atomically(reports / f"{stem}.json", entry.review.model_dump_json(indent=2))
        written += [reports / f"{stem}.md", reports / f"{stem}.json"]
    if key is not None:
        path = out_dir / "anonymisation-key.json"
        write_atomically(path, json.dumps(key, indent=2) + "\n")
        written.append(path)
    return written


async def run_message_batch(
    job_ids: list[str],
    store: JobStore,
    runner: JobRunner,
    settings: Settings,
    catalog: RubricCatalog,
    *,
    progress: Progress | None = None,
    on_event: Callable[[str], None] | None = None,
) -> None:
    """Grade the given jobs through one Anthropic Message Batch. The jobs are claimed (and their leases
    kept) for the whole run; the batch id is saved under the data directory, so an interrupted run
    picks the same batch up again instead of paying for a new one."""
    from reviewer.documents import read_pdf_with
    from reviewer.grading.anthropic_backend import AnthropicBackend
    from reviewer.grading.anthropic_batch import BatchProgress, grade_in_batch, prepare
    from reviewer.pipeline import assemble_review

    worker_id = f"{runner.process_id}/batch"
    claimed = [job for i in job_ids if (job := store.claim_job(i, worker_id, settings.job_lease_seconds))]
    if not claimed:
        return
    state_file = (
        settings.data_dir
        / "batches"
        / (hashlib.sha256(",".join(sorted(j.id for j in claimed)).encode()).hexdigest()[:16] + ".json")
    )

    async def keep_leases() -> None:
        while True:
            await asyncio.sleep(settings.job_lease_seconds / 3)
            for job in claimed:
                await asyncio.to_thread(store.heartbeat, job.id, worker_id, settings.job_lease_seconds)

    leases = asyncio.create_task(keep_leases())
    try:
        prepared, usable = [], []
        for job in claimed:
            backend = runner.backend_for(job.backend, job.model)
            if not isinstance(backend, AnthropicBackend):
                raise BadInputError("--batch-api works with the anthropic backend only", code="bad_option")
            try:
                document = await read_pdf_with(runner.extractor, runner.files.get(job.sha256), job.file_name)
            except ReviewerError as exc:
                store.fail(job.id, worker_id, exc.code, exc.message)
                if on_event:
                    on_event(f"{job.file_name}: {exc.code}: {exc.message}")
                continue
            prepared.append(prepare(backend, job.id, document, catalog.load(job.rubric_name)))
            usable.append(job)
        if not usable:
            return
        rubric = catalog.load(usable[0].rubric_name)

        def report(p: BatchProgress) -> None:
            if progress:
                progress.note(p.summary())

        gradings = await grade_in_batch(
            runner.backend_for(usable[0].backend, usable[0].model),
            prepared,
            rubric,
            poll_seconds=settings.batch_poll_seconds,
            on_progress=report,
            state_file=state_file,
            state={"jobs": [j.id for j in usable]},
        )
        del prepared
        for job in usable:
            document = await read_pdf_with(runner.extractor, runner.files.get(job.sha256), job.file_name)
            review = assemble_review(document, rubric, gradings[job.id], backend=job.backend, offline=False)
            if job.vendor_name:
                review = review.model_copy(update={"vendor_name": job.vendor_name})
            used = (review.rubric.id, review.rubric.version)
            store.complete(job.id, worker_id, review.model_dump_json(), review.vendor_name, used)
        state_file.unlink(missing_ok=True)
    except asyncio.CancelledError:
        for job in claimed:
            store.release(job.id, worker_id)
        raise
    finally:
        leases.cancel()
