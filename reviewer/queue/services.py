"""The long-lived pieces a server process shares, built once from Settings: the job store, the file
store, the rubric catalog, the job runner and the intake in front of it. Shells (the API, the Slack
bot) receive this object; none of them builds its own."""

from dataclasses import dataclass

from reviewer.config import Settings
from reviewer.grading.base import create_backend
from reviewer.queue.intake import Intake
from reviewer.queue.panel import PanelService
from reviewer.queue.proposal import ProposalPages
from reviewer.queue.retention import RetentionService
from reviewer.queue.rounds import RoundService
from reviewer.queue.runner import BackendFactory, JobRunner
from reviewer.rubric import RubricCatalog
from reviewer.store import FileStore, JobStore, make_engine


@dataclass
class Services:
    settings: Settings
    store: JobStore
    files: FileStore
    catalog: RubricCatalog
    runner: JobRunner
    intake: Intake
    panel: PanelService
    rounds: RoundService
    retention: RetentionService
    proposals: ProposalPages  # the reviewed files read again (and their pages as pictures), cached

    @classmethod
    def open(cls, settings: Settings, backend_factory: BackendFactory = create_backend) -> "Services":
        store = JobStore(make_engine(settings.storage.resolved_database_url))
        files = FileStore(settings.storage.data_dir / "uploads")
        catalog = RubricCatalog.from_settings(settings)
        runner = JobRunner(store, files, settings, catalog, backend_factory)
        panel = PanelService(store, files, catalog, settings)
        rounds = RoundService(store, files, runner)
        retention = RetentionService(store, files)
        proposals = ProposalPages(files, settings)
        return cls(settings, store, files, catalog, runner, Intake(runner), panel, rounds, retention, proposals)

    def close(self) -> None:
        self.store.engine.dispose()
