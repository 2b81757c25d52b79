"""The server's retention task: the purge at start-up and then every interval, surviving a failed run; the app
starts it only when REVIEWER_RETENTION_DAYS is set, and stops it with the app."""

import asyncio
import time

import pytest
from fastapi.testclient import TestClient

from reviewer.api.app import create_app
from reviewer.config import ApiSettings, Settings, StorageSettings
from reviewer.queue.retention import DAY_SECONDS, PurgeReport, purge_periodically
from reviewer.store import FileStore, JobStore, make_engine
from tests.store.test_retention import OLD, _age, _finished

KEY = "test-api-key-0123456789"


class Stop(Exception):
    """Ends the loop from the fake sleep, after the runs a test wants."""


def _report() -> PurgeReport:
    return PurgeReport(days=30, cutoff=time.time(), dry_run=False)


def test_the_purge_runs_at_once_then_after_every_interval_and_survives_a_failure(caplog):
    runs: list[int] = []
    slept: list[float] = []

    def purge() -> PurgeReport:
        runs.append(len(runs))
        if len(runs) == 2:
            raise RuntimeError("database locked")
        return _report()

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        assert len(runs) == len(slept)  # each run comes before its wait
        if len(slept) == 3:
            raise Stop

    with pytest.raises(Stop):
        asyncio.run(purge_periodically(purge, interval_seconds=5.0, sleep=sleep))
    assert runs == [0, 1, 2] and slept == [5.0, 5.0, 5.0]
    assert "retention purge failed" in caplog.text


def test_the_default_interval_is_a_day():
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        raise Stop

    with pytest.raises(Stop):
        asyncio.run(purge_periodically(_report, sleep=sleep))
    assert slept == [DAY_SECONDS]


def _settings(tmp_path, days: int | None) -> Settings:
    storage = StorageSettings(data_dir=tmp_path / "data", retention_days=days)
    return Settings(storage=storage, api=ApiSettings(keys=[KEY]))


def _old_review(settings: Settings) -> tuple[JobStore, str, FileStore]:
    store = JobStore(make_engine(settings.storage.resolved_database_url))
    files = FileStore(settings.storage.data_dir / "uploads")
    job = _finished(store, 11)
    files.put(job.sha256, b"old proposal")
    _age(store, job.id, OLD)
    return store, job.id, files


def test_the_server_purges_at_start_up_when_retention_is_set(tmp_path):
    settings = _settings(tmp_path, 30)
    store, review_id, files = _old_review(settings)
    with TestClient(create_app(settings, run_workers=False)):
        deadline = time.monotonic() + 20
        while store.get(review_id) is not None and time.monotonic() < deadline:
            time.sleep(0.02)
    assert store.get(review_id) is None
    assert not files.path(f"{11:064x}").exists()
    assert [(e.action, e.actor) for e in store.events(review_id)[0]][-1] == ("review_deleted", "retention")


def test_without_retention_the_server_keeps_everything(tmp_path):
    settings = _settings(tmp_path, None)
    store, review_id, _ = _old_review(settings)
    with TestClient(create_app(settings, run_workers=False)) as client:
        tasks = client.portal.call(_task_names)
    assert "retention" not in tasks
    assert store.get(review_id) is not None


async def _task_names() -> set[str]:
    return {task.get_name() for task in asyncio.all_tasks()}
