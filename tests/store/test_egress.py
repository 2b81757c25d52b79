"""The egress log in the store (on SQLite, and on PostgreSQL when available), and migration 0005."""

from datetime import UTC, datetime

from sqlalchemy import inspect, text

from reviewer.egress import EgressRecord
from reviewer.store import make_engine
from reviewer.store.migrations import current_revision, head_revision, upgrade
from tests.store.support import new_job, store_at


def record(review_id: str | None, n: int, **changes: object) -> EgressRecord:
    fields = {
        "at": datetime(2026, 12, 3, 9, 0, n, tzinfo=UTC),
        "provider": "anthropic",
        "host": "api.anthropic.com",
        "method": "POST",
        "path": "/v1/messages",
        "model": "claude-sonnet-5-5",
        "review_id": review_id,
        "purpose": "grading",
        "bytes_sent": 5_000_000_000 + n,  # past 32 bits: a BIGINT column
        "sha256": f"{n:064x}",
    }
    return EgressRecord(**{**fields, **changes})


def test_records_are_kept_per_review_oldest_first_and_read_back_as_written(database_url):
    store = store_at(database_url)
    first, second, other = record("a" * 32, 1), record("a" * 32, 2, purpose="message_batch"), record("b" * 32, 3)
    store.record_egress([first, other])
    store.record_egress([second])
    store.record_egress([record(None, 4, purpose="rfp_extraction")])
    assert store.egress_of("a" * 32) == [first, second]
    assert store.egress_of("b" * 32) == [other]
    assert store.egress_of("c" * 32) == []


def test_a_long_path_is_cut_to_its_column_rather_than_refused(database_url):
    store = store_at(database_url)
    store.record_egress([record("a" * 32, 1, path="/v1/" + "x" * 1000)])
    [kept] = store.egress_of("a" * 32)
    assert len(kept.path) == 512 and kept.path.endswith("…")


def test_a_database_at_0004_gains_the_egress_table_and_keeps_its_reviews_and_rounds(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "0004")
    job = new_job(5)
    with engine.begin() as conn:
        assert "egress" not in inspect(conn).get_table_names()
        conn.execute(
            text(
                "INSERT INTO reviews (id, status, created_at, updated_at, file_name, sha256, size_bytes, rubric_name,"
                " rubric_id, rubric_version, backend, model, attempts, result) VALUES ('a1', 'done', 1, 1, :f, :s, 10,"
                " 'default', 'r', '1', 'anthropic', 'claude-sonnet-5-5', 1, '{\"kept\": true}')"
            ),
            {"f": job.file_name, "s": job.sha256},
        )
        conn.execute(
            text(
                "INSERT INTO rounds (review_id, number, sha256, file_name, status, opened_by, created_at)"
                " VALUES ('a1', 2, :s, 'answer.pdf', 'done', 'ana', 2)"
            ),
            {"s": job.sha256},
        )
    engine.dispose()
    store = store_at(database_url)
    assert current_revision(store.engine) == head_revision()
    assert store.get("a1").result == '{"kept": true}'
    assert [r.number for r in store.rounds_of("a1")] == [2]
    assert store.egress_of("a1") == []
    store.record_egress([record("a1", 1)])
    assert [r.sha256 for r in store.egress_of("a1")] == [f"{1:064x}"]
    indexes = {i["name"] for i in inspect(store.engine).get_indexes("egress")}
    assert "ix_egress_review" in indexes
