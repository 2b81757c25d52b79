"""A review's egress log for every shell: the requests its grading sent, looked up by id or a unique prefix."""

import contextlib
import threading
import uuid
from collections.abc import Iterator

from reviewer.egress import EgressLogView, EgressRecord, egress_scope
from reviewer.queue.review_ids import resolve_review_id
from reviewer.store import JobStore


def egress_log(store: JobStore, review_id: str) -> EgressLogView:
    """The log of `review_id` (a full id, or a unique prefix of 4+ characters). A deleted review's requests
    stay in the log and are found by the full id. Raises not_found for an id with neither."""
    records = store.egress_of(review_id)
    if records or store.get(review_id) is not None:
        return EgressLogView.of(review_id, records)
    found = resolve_review_id(store, review_id)
    return EgressLogView.of(found, store.egress_of(found))


class CommandEgress:
    """The egress recorder of a command that queues no job (a one-off `reviewer review`, `rubric from-rfp`,
    `eval` against a model): its requests are recorded under one run id in the job store, which is opened at
    the first request, so a command that sends nothing never touches the database. A request is recorded
    before it is sent, as the job runner's are."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.run_id = uuid.uuid4().hex
        self.requests = 0
        self.bytes_sent = 0
        self.hosts: set[str] = set()
        self._store: JobStore | None = None
        self._lock = threading.Lock()

    def record_egress(self, records: list[EgressRecord]) -> None:
        with self._lock:
            if self._store is None:
                from reviewer.store import make_engine

                self._store = JobStore(make_engine(self.database_url))
            self._store.record_egress(records)
            self.requests += len(records)
            self.bytes_sent += sum(r.bytes_sent for r in records)
            self.hosts.update(r.host for r in records)

    def close(self) -> None:
        if self._store is not None:
            self._store.engine.dispose()

    def summary(self) -> str:
        """One line for the command's stderr; '' when nothing left the machine."""
        if not self.requests:
            return ""
        requests = "1 request" if self.requests == 1 else f"{self.requests:,} requests"
        return (
            f"{requests} ({self.bytes_sent:,} bytes) left this machine for {', '.join(sorted(self.hosts))}; "
            f"`reviewer egress {self.run_id}` lists them"
        )


@contextlib.contextmanager
def command_egress(database_url: str, purpose: str = "grading") -> Iterator[CommandEgress]:
    """Requests sent inside this block are recorded under the run's id (see CommandEgress)."""
    recorder = CommandEgress(database_url)
    try:
        with egress_scope(recorder, recorder.run_id, purpose=purpose):
            yield recorder
    finally:
        recorder.close()
