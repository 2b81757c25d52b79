import asyncio

import pytest

from reviewer.config import IngestSettings, JobSettings, Settings, StorageSettings
from reviewer.grading.base import create_backend
from reviewer.queue.runner import JobRunner
from reviewer.rubric import RubricCatalog
from reviewer.store import FileStore, JobStore, make_engine


def runner_for(tmp_path, workers: int) -> JobRunner:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path),
        jobs=JobSettings(poll_seconds=60, workers=workers),
        ingest=IngestSettings(processes=1),
    )
    store = JobStore(make_engine(settings.storage.resolved_database_url))
    return JobRunner(store, FileStore(tmp_path / "uploads"), settings, RubricCatalog(), create_backend)


@pytest.mark.parametrize("workers", [1, 4])
def test_the_runner_stops_even_when_a_job_is_queued_at_that_moment(tmp_path, workers):
    # A worker waiting for work is woken (a job was queued) in the same instant it is told to stop: the
    # stop must win. asyncio.wait_for on Python 3.11 lets the wake-up swallow the cancellation, and the
    # worker then polled on for ever, so a server stopped during uploads never finished shutting down.
    async def scenario() -> None:
        runner = runner_for(tmp_path, workers)
        await runner.start()
        await asyncio.sleep(0.5)  # every worker has found the queue empty and waits to be woken
        runner.notify()
        async with asyncio.timeout(20):
            await runner.stop()

    asyncio.run(scenario())
