"""Answers for many queued jobs from one Anthropic Message Batch, supplied to the job runner
(`JobRunner.run_supplied`), which verifies, scores and records them like any worker's. The batch id
is saved under the data directory, so an interrupted run picks the same batch up again instead of
paying for a new one."""

import hashlib
from pathlib import Path

from reviewer.config import Settings
from reviewer.errors import BadInputError
from reviewer.grading.base import RawGrading
from reviewer.progress import Progress
from reviewer.queue.runner import JobRunner, PreparedJob


class MessageBatchSupplier:
    def __init__(self, runner: JobRunner, settings: Settings, progress: Progress | None = None) -> None:
        self.runner, self.settings, self.progress = runner, settings, progress
        self.state_files: list[Path] = []

    async def __call__(self, jobs: list[PreparedJob]) -> dict[str, RawGrading]:
        from reviewer.grading.anthropic_backend import AnthropicBackend
        from reviewer.grading.anthropic_batch import BatchProgress, grade_in_batch, prepare

        first = jobs[0].job
        backend = self.runner.backend_for(first.backend, first.model)
        if not isinstance(backend, AnthropicBackend):
            raise BadInputError("--batch-api works with the anthropic backend only", code="bad_option")
        ids = sorted(item.job.id for item in jobs)
        digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:16]
        state_file = self.settings.storage.data_dir / "batches" / f"{digest}.json"
        self.state_files.append(state_file)
        requests = [prepare(backend, item.job.id, item.model_document, item.rubric) for item in jobs]

        def report(p: BatchProgress) -> None:
            if self.progress:
                self.progress.note(p.summary())

        return await grade_in_batch(
            backend,
            requests,
            jobs[0].rubric,
            poll_seconds=self.settings.jobs.batch_poll_seconds,
            on_progress=report,
            state_file=state_file,
            state={"jobs": ids},
        )

    def forget(self) -> None:
        """Once the results are recorded, the saved batch ids are no longer needed to resume."""
        for path in self.state_files:
            path.unlink(missing_ok=True)
