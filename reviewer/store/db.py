"""The database under every store: engine set-up, the one `metadata` every table is declared on, short
write transactions, and the one place where values are made fit for their columns."""

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, create_engine, event, text
from sqlalchemy.engine import Connection, Engine

metadata = MetaData()

# Alembic's own bookkeeping table, declared here too so `metadata.drop_all(engine)` (how tests reset a
# shared PostgreSQL database) forgets the applied revisions along with the tables. Nothing writes it but
# Alembic; its shape is Alembic's default.
alembic_version = Table(
    "alembic_version",
    metadata,
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)

ELLIPSIS = "…"


def fit_text(value: str, max_chars: int | None) -> str:
    """`value` made storable in a column of `max_chars` characters (None: unbounded): NUL characters (which
    PostgreSQL refuses in text) and lone surrogates (which cannot be encoded) are replaced, and a value over the
    bound is cut, ending in an ellipsis so a reader sees it was cut."""
    value = value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if max_chars is not None and len(value) > max_chars:
        value = value[: max_chars - 1] + ELLIPSIS
    return value


def bounded(table: Table, values: Mapping[str, object]) -> dict[str, object]:
    """`values` for a row of `table` with every string fitted to its column (by the column's declared length):
    the one place where a 300-character vendor name from a model is cut to 255, rather than PostgreSQL
    refusing the row with StringDataRightTruncation (SQLite would store it whole)."""
    fitted: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, str):
            column_type = table.c[name].type
            value = fit_text(value, getattr(column_type, "length", None))
        fitted[name] = value
    return fitted


WAL_SWITCH_SECONDS = 30.0


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _switch_to_wal(cursor) -> None:
    """Put the database in WAL mode (it stays so). On a new file, connections opened at the same instant race
    to switch it, and SQLite answers the losers "database is locked" at once, without its busy wait: retry."""
    deadline = time.monotonic() + WAL_SWITCH_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """An engine and the way this process writes through it. Every write is a short transaction; callers on an
    event loop run store methods in a thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite lets one writer in at a time and makes the others sleep and retry (in steps of up to
        # 100 ms); queueing this process's writers on a lock instead keeps request latency even.
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    def connect(self) -> Connection:
        return self.engine.connect()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
