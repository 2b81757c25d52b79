"""The schema is upgraded in place on start: a fresh database gets every revision, one made by the last release
without migrations (tables from `create_all`, no alembic_version) is stamped at 0001 and upgraded."""

import threading
import time

from sqlalchemy import insert, inspect, select

from reviewer.store import JobStatus, make_engine
from reviewer.store.jobs import reviews
from reviewer.store.migrations import __main__ as by_hand
from reviewer.store.migrations import current_revision, head_revision, upgrade
from tests.store import old_schema
from tests.store.support import new_job, store_at


def schema_of(url: str) -> dict:
    """Tables, columns (type, nullability), primary keys and indexes, as the database reports them."""
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        return {
            table: {
                "columns": {c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)},
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)
                ),
            }
            for table in sorted(inspector.get_table_names())
            if table != "alembic_version"
        }
    finally:
        engine.dispose()


def old_release_row(n: int, status: str, created_at: float, **changes: object) -> dict:
    return {
        **new_job(n).model_dump(),
        "id": f"{n:032x}",
        "status": status,
        "created_at": created_at,
        "updated_at": created_at,
        "attempts": 1,
        "result": '{"kept": true}' if status == "done" else None,
        **changes,
    }


def make_old_release_database(url: str, rows: list[dict]) -> None:
    engine = make_engine(url)
    old_schema.metadata.create_all(engine)
    with engine.begin() as conn:
        for row in rows:
            conn.execute(insert(old_schema.reviews).values(**row))
        conn.execute(
            insert(old_schema.notifications).values(
                id="n1", job_id=rows[0]["id"], channel="slack", target="{}", status="pending", attempts=0, created_at=1
            )
        )
    engine.dispose()


def test_revision_0001_is_exactly_the_schema_the_last_release_created(database_url):
    engine = make_engine(database_url)
    old_schema.metadata.create_all(engine)
    engine.dispose()
    released = schema_of(database_url)
    old_schema.metadata.drop_all(make_engine(database_url))
    engine = make_engine(database_url)
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    engine.dispose()
    assert schema_of(database_url) == released


def test_a_database_of_the_last_release_is_upgraded_in_place_and_keeps_its_reviews(database_url):
    rows = [
        old_release_row(1, "done", 100.0),
        old_release_row(2, "queued", 200.0, sha256=f"{1:064x}"),  # the same file queued again later (force)
        old_release_row(3, "failed", 300.0, sha256=f"{1:064x}"),
        old_release_row(4, "running", 50.0),
    ]
    make_old_release_database(database_url, rows)

    store = store_at(database_url)

    assert current_revision(store.engine) == head_revision()
    kept = store.get(f"{1:064x}"[-32:])
    assert kept.status is JobStatus.DONE and kept.result == '{"kept": true}' and kept.file_name == "p1.pdf"
    assert store.list_jobs(None, 10, 0)[1] == 4
    assert "dedup_key" in {c["name"] for c in inspect(store.engine).get_columns("reviews")}
    # the newest live job of an identity is the one it deduplicates to, as before the upgrade
    same = new_job(1)
    assert store.find_same(same.sha256, "r", "1", "offline", "-").id == rows[1]["id"]
    job, created = store.create_or_get(same)
    assert (job.id, created) == (rows[1]["id"], False)
    assert store.create_or_get(new_job(4))[0].id == rows[3]["id"]
    assert [n.job_id for n, _ in store.claim_notifications("slack", "w", 60)] == [rows[0]["id"]]  # outbox kept
    # starting again on an upgraded database changes nothing
    assert store_at(database_url).get(rows[0]["id"]) == kept


def test_a_fresh_database_gets_every_revision(database_url):
    store = store_at(database_url)
    assert current_revision(store.engine) == head_revision()
    job = store.create(new_job())
    with store.engine.connect() as conn:
        assert conn.execute(select(reviews.c.dedup_key)).scalar_one() == job.dedup_key()


def test_two_processes_starting_at_once_on_a_fresh_database_both_come_up(database_url):
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def start() -> None:
        engine = make_engine(database_url)  # its own engine and connections, like another process
        try:
            barrier.wait()
            store_at(database_url).create(new_job(int(time.time_ns() % 1000)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert current_revision(make_engine(database_url)) == head_revision()


def test_the_revisions_form_one_line_from_0001():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from reviewer.store.migrations import SCRIPT_LOCATION

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    scripts = ScriptDirectory.from_config(config)
    assert len(scripts.get_heads()) == 1
    chain = [s.revision for s in scripts.walk_revisions()][::-1]
    assert chain[:2] == ["0001", "0002"] and chain == [f"{n:04d}" for n in range(1, len(chain) + 1)]
    from reviewer.store.migrations import newest_revision_file

    assert newest_revision_file() == head_revision() == chain[-1]  # the fast start-up check reads file names


def test_the_by_hand_command_upgrades_a_database(database_url, capsys):
    make_old_release_database(database_url, [old_release_row(1, "done", 1.0)])
    assert by_hand.main([database_url]) == 0
    assert f"database at revision {head_revision()}" in capsys.readouterr().out
    assert by_hand.main([]) == 2


def test_a_connection_losing_the_race_to_switch_a_new_database_to_wal_tries_again():
    """SQLite refuses at once, without its busy wait, the connections that lose the race to switch a new file
    to WAL (seen: 1 in 300 with four threads, more under load): the connect hook retries."""
    import sqlite3

    import pytest

    from reviewer.store import db

    class Cursor:
        def __init__(self, failures: list[str]) -> None:
            self.failures = failures
            self.tries = 0

        def execute(self, sql: str) -> None:
            self.tries += 1
            if self.failures:
                raise sqlite3.OperationalError(self.failures.pop(0))

    lost_twice = Cursor(["database is locked", "database is locked"])
    db._switch_to_wal(lost_twice)
    assert lost_twice.tries == 3
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        db._switch_to_wal(Cursor(["disk I/O error"]))
