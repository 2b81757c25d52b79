"""`JobStore`: the one object shells hold over the database. It upgrades the schema on construction and offers
the review queue, batches, the outbox and the panel's assessments and audit trail,
clarification rounds, retention and the egress log, each defined in its own module."""

from sqlalchemy.engine import Engine

from reviewer.store.batches import BatchStore
from reviewer.store.db import Database
from reviewer.store.egress import EgressLog
from reviewer.store.jobs import JobQueue
from reviewer.store.migrations import upgrade
from reviewer.store.notifications import Outbox
from reviewer.store.panel import PanelStore
from reviewer.store.retention import RetentionStore
from reviewer.store.rounds import RoundStore


class JobStore(JobQueue, BatchStore, Outbox, PanelStore, RoundStore, RetentionStore, EgressLog):
    """Every method is a short transaction; callers on an event loop run them in a thread."""

    def __init__(self, engine: Engine) -> None:
        upgrade(engine)
        self.engine = engine
        self.db = Database(engine)
        self.jobs = self

    def references(self, sha256: str) -> int:
        """How many reviews need the stored file: as their upload or as a clarification round's answer (a file
        shared by both is kept until neither names it)."""
        return len(self.file_holders(sha256))

    def ping(self) -> None:
        self.db.ping()
