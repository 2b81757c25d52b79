"""The job runner outlives any single job's failure to be recorded (issue 13, 'Workers that die')."""

import asyncio
import logging
import sqlite3
import time
from pathlib import Path

from sqlalchemy.exc import DataError, OperationalError

from reviewer.config import IngestSettings, JobSettings, Settings, StorageSettings
from reviewer.grading.base import create_backend
from reviewer.queue.intake import Intake, ReviewTarget
from reviewer.queue.runner import JobRunner
from reviewer.rubric import RubricCatalog
from reviewer.store import FileStore, JobRecord, JobStatus, JobStore, make_engine
from tests.pdfs import text_pdf

SAMPLE = (Path(__file__).resolve().parent.parent / "samples" / "coral_data.pdf").read_bytes()
OTHER = text_pdf(["Acme Analytics keeps client data in the EU and deletes it within 30 days of request."])


def locked() -> OperationalError:
    return OperationalError("UPDATE reviews SET ...", {}, sqlite3.OperationalError("database is locked"))


class FlakyStore(JobStore):
    """complete() raises for the chosen jobs: for their first `complete_failures` calls, and fail() for its
    first `fail_failures` calls (None: always)."""

    def __init__(self, engine, complete_failures: int | None = 0, fail_failures: int | None = 0) -> None:
        super().__init__(engine)
        self.complete_failures = complete_failures
        self.fail_failures = fail_failures
        self.targets: set[str] = set()
        self.complete_calls = 0
        self.fail_calls = 0

    def complete(self, job_id, *args, **kwargs) -> bool:
        if job_id in self.targets:
            self.complete_calls += 1
            if self.complete_failures is None or self.complete_calls <= self.complete_failures:
                raise locked()
        return super().complete(job_id, *args, **kwargs)

    def fail(self, job_id, *args, **kwargs) -> bool:
        if job_id in self.targets:
            self.fail_calls += 1
            if self.fail_failures is None or self.fail_calls <= self.fail_failures:
                raise DataError("UPDATE reviews SET ...", {}, Exception("value too long for type varchar(64)"))
        return super().fail(job_id, *args, **kwargs)


def make_runner(tmp_path, store_factory, workers: int = 1) -> JobRunner:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path),
        jobs=JobSettings(
            poll_seconds=0.05, workers=workers, lease_seconds=30, store_write_attempts=3, store_retry_seconds=0.01
        ),
        ingest=IngestSettings(processes=1),
    )
    store = store_factory(make_engine(settings.storage.resolved_database_url))
    return JobRunner(store, FileStore(tmp_path / "uploads"), settings, RubricCatalog(), create_backend)


async def queue(runner: JobRunner, data: bytes, name: str) -> JobRecord:
    target = ReviewTarget.resolve(runner.settings, RubricCatalog(), runner, "default", "offline")
    job, _ = await Intake(runner).enqueue(data, name, target)
    return job


async def until(runner: JobRunner, job_id: str, *statuses: JobStatus, timeout: float = 30) -> JobRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = await asyncio.to_thread(runner.store.get, job_id)
        if job and job.status in statuses:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {statuses}: {job}")


def run_two_jobs(tmp_path, store: FlakyStore | None = None, **flaky) -> tuple[JobRunner, JobRecord, JobRecord]:
    """Queue a job the store fails to record, then a healthy one behind it, on a single worker."""

    async def scenario() -> tuple[JobRunner, JobRecord, JobRecord]:
        runner = make_runner(tmp_path, lambda engine: FlakyStore(engine, **flaky))
        first = await queue(runner, SAMPLE, "first.pdf")
        runner.store.targets.add(first.id)
        second = await queue(runner, OTHER, "second.pdf")
        await runner.start()
        try:
            done = await until(runner, second.id, JobStatus.DONE, JobStatus.FAILED)
            assert runner.workers_state() == (1, 1)
        finally:
            await runner.stop()
        return runner, await asyncio.to_thread(runner.store.get, first.id), done

    return asyncio.run(scenario())


def test_a_completion_that_fails_a_few_times_is_retried_and_recorded(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="reviewer.queue.runner")
    runner, first, second = run_two_jobs(tmp_path, complete_failures=2)
    assert first.status is JobStatus.DONE and first.result
    assert runner.store.complete_calls == 3
    assert second.status is JobStatus.DONE
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2 and all(first.id in m and "database is locked" in m for m in retries)


def test_a_completion_that_always_fails_fails_the_job_with_a_reason_and_the_queue_goes_on(tmp_path, caplog):
    caplog.set_level(logging.ERROR, logger="reviewer.queue.runner")
    runner, first, second = run_two_jobs(tmp_path, complete_failures=None)
    assert runner.store.complete_calls == 3  # bounded
    assert first.status is JobStatus.FAILED and first.error_code == "store_error"
    assert "could not be stored" in first.error_message
    assert second.status is JobStatus.DONE
    assert any(first.id in r.getMessage() for r in caplog.records)


def test_when_neither_result_nor_failure_can_be_recorded_the_worker_goes_on_and_the_lease_keeps_the_job(tmp_path):
    runner, first, second = run_two_jobs(tmp_path, complete_failures=None, fail_failures=None)
    assert runner.store.complete_calls == 3 and runner.store.fail_calls == 3
    assert first.status is JobStatus.RUNNING  # its lease will expire and the job be claimed again
    assert second.status is JobStatus.DONE
