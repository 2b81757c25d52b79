"""Alembic migrations of the store's schema, run on start by `upgrade(engine)`.

A database created before migrations existed (its tables made by `create_all`, no `alembic_version`) is
stamped at 0001 (that schema, exactly) and upgraded from there; a fresh one gets every revision. Two
processes starting at once take turns: the upgrade runs under a PostgreSQL advisory lock, or in an
exclusive SQLite transaction, and the second finds the database at head. See README.md beside this file for
how to add a revision.
"""

import importlib
import time
from pathlib import Path

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

SCRIPT_LOCATION = Path(__file__).parent
BASELINE = "0001"  # the schema the last release without migrations created
_PG_LOCK_KEY = 0x72657669657765  # any constant shared by every process of this app ("reviewe")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at `engine` to `revision` in place, holding the database's migration lock.
    A database already at head is left at once, without the lock: every start of a process opens the store,
    and holding SQLite's write lock for Alembic's no-op run made other processes' first writes wait."""
    if revision == "head" and current_revision(engine) == newest_revision_file():
        return
    _import_alembic()  # before the lock: importing it can take seconds on a busy machine, others wait meanwhile
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # pysqlite would not open a transaction before DDL; take the write lock ourselves, whole.
            conn.execution_options(isolation_level="AUTOCOMMIT")
            _begin_exclusive(conn)
            try:
                # another process may have upgraded while this one waited: then there is nothing to hold it for
                if not (revision == "head" and _revision_on(conn) == newest_revision_file()):
                    _upgrade_locked(conn, revision)
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
            return
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            _upgrade_locked(conn, revision)


SQLITE_LOCK_WAIT_SECONDS = 120.0


def _begin_exclusive(conn: Connection) -> None:
    """Take SQLite's write lock, waiting out another process's upgrade: each attempt waits the connection's
    busy timeout (10 s), and a slow machine's first start can hold the lock for longer than that."""
    deadline = time.monotonic() + SQLITE_LOCK_WAIT_SECONDS
    while True:
        try:
            conn.exec_driver_sql("BEGIN EXCLUSIVE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise


def _import_alembic() -> None:
    """Imported here: only the processes that open a database pay for it."""
    for name in ("alembic.command", "alembic.config"):
        importlib.import_module(name)


def _upgrade_locked(conn: Connection, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = conn
    if _made_before_migrations(conn):
        command.stamp(config, BASELINE)
    command.upgrade(config, revision)


def _made_before_migrations(conn: Connection) -> bool:
    tables = set(inspect(conn).get_table_names())
    if "reviews" not in tables:
        return False
    if "alembic_version" not in tables:
        return True
    from reviewer.store.db import alembic_version

    return conn.execute(select(alembic_version.c.version_num)).first() is None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before any)."""
    with engine.connect() as conn:
        return _revision_on(conn)


def _revision_on(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    from reviewer.store.db import alembic_version

    return conn.execute(select(alembic_version.c.version_num)).scalar_one_or_none()


def newest_revision_file() -> str:
    """The head revision read from the versions/ file names (NNNN_name.py) without importing Alembic (90 ms
    a start); tests check it equals Alembic's own head and that revisions are numbered in one line."""
    return max(p.name.split("_", 1)[0] for p in (SCRIPT_LOCATION / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
