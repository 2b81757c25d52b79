"""A delete racing a re-upload of the same file never removes the file under the live new job (issue 13)."""

import asyncio
import threading
from pathlib import Path

from reviewer.config import IngestSettings, JobSettings, Settings, StorageSettings
from reviewer.grading.base import create_backend
from reviewer.queue.intake import Intake, ReviewTarget
from reviewer.queue.runner import JobRunner
from reviewer.rubric import RubricCatalog
from reviewer.store import FileStore, JobStatus, JobStore, make_engine
from tests.test_runner_faults import until

SAMPLE = (Path(__file__).resolve().parent.parent / "samples" / "coral_data.pdf").read_bytes()


class PausingStore(JobStore):
    """create_or_get stops, once armed, until the test lets it go (or a second passes): the moment after
    the upload's file is stored and before its job row exists, where a delete used to slip in."""

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.armed = False
        self.entered = threading.Event()
        self.resume = threading.Event()

    def create_or_get(self, job, *, force=False):
        if self.armed:
            self.entered.set()
            self.resume.wait(timeout=1.0)
        return super().create_or_get(job, force=force)


def make_runner(tmp_path) -> JobRunner:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path),
        jobs=JobSettings(poll_seconds=0.05, workers=1),
        ingest=IngestSettings(processes=1),
    )
    store = PausingStore(make_engine(settings.storage.resolved_database_url))
    return JobRunner(store, FileStore(tmp_path / "uploads"), settings, RubricCatalog(), create_backend)


def test_deleting_a_review_while_the_same_file_is_uploaded_again_keeps_the_file_for_the_new_job(tmp_path):
    async def scenario() -> None:
        runner = make_runner(tmp_path)
        intake = Intake(runner)
        target = ReviewTarget.resolve(runner.settings, RubricCatalog(), runner, "default", "offline")
        old, _ = await intake.enqueue(SAMPLE, "proposal.pdf", target)

        runner.store.armed = True
        upload = asyncio.create_task(intake.enqueue(SAMPLE, "proposal.pdf", target, force=True))
        assert await asyncio.to_thread(runner.store.entered.wait, 10)  # file stored, new job not yet recorded
        runner.store.armed = False
        delete = asyncio.create_task(intake.delete(old.id))
        await asyncio.sleep(0.3)  # the delete goes as far as it can: before the fix, it removed the file here
        runner.store.resume.set()
        new, deduplicated = await upload
        assert (await delete).id == old.id
        assert not deduplicated and new.id != old.id
        assert runner.files.path(new.sha256).exists()

        await runner.start()
        try:
            done = await until(runner, new.id, JobStatus.DONE, JobStatus.FAILED)
        finally:
            await runner.stop()
        assert done.status is JobStatus.DONE, done.error_message

        assert await intake.delete(new.id) is not None  # the last reference: now the file goes
        assert not runner.files.path(new.sha256).exists()

    asyncio.run(scenario())


def test_the_file_lock_holds_across_file_store_instances(tmp_path):
    # Two processes sharing the directory each have their own FileStore: the lock is on disk (flock).
    first, second = FileStore(tmp_path / "uploads"), FileStore(tmp_path / "uploads")
    digest = "ab" + "0" * 62
    order: list[str] = []
    with first.lock(digest):
        waiter = threading.Thread(target=lambda: second.discard(digest, lambda: order.append("discard") or True))
        waiter.start()
        waiter.join(0.3)
        order.append("holder")
    waiter.join(5)
    assert order == ["holder", "discard"]
