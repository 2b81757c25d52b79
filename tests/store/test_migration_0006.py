"""Migration 0006: a job's blind model input and a consensus's round move out of the columns they were folded
into (the model's "+blind" suffix, the consensus_set audit event) into their own, on SQLite and PostgreSQL."""

import hashlib
import json

from sqlalchemy import inspect, text

from reviewer.store import make_engine
from reviewer.store.migrations import current_revision, head_revision, upgrade
from tests.store.support import new_job, store_at

SHA = f"{7:064x}"


def old_dedup_key(model_column: str) -> str:
    """The key the code before 0006 stored: the model column's value, suffix included, in the identity."""
    return hashlib.sha256("\x1f".join((SHA, "r", "1", "anthropic", model_column)).encode()).hexdigest()


def insert_review(conn, review_id: str, model_column: str, created_at: float) -> None:
    conn.execute(
        text(
            "INSERT INTO reviews (id, status, created_at, updated_at, file_name, sha256, size_bytes, rubric_name,"
            " rubric_id, rubric_version, backend, model, attempts, result, dedup_key) VALUES (:id, 'done', :t, :t,"
            " 'p.pdf', :s, 10, 'default', 'r', '1', 'anthropic', :m, 1, '{\"kept\": true}', :k)"
        ),
        {"id": review_id, "t": created_at, "s": SHA, "m": model_column, "k": old_dedup_key(model_column)},
    )


def insert_consensus(conn, review_id: str, criterion_id: str, at: float, event_after: dict | None) -> None:
    conn.execute(
        text(
            "INSERT INTO consensus (id, review_id, criterion_id, grade, reason, lead, created_at)"
            " VALUES (:id, :r, :c, 'partial', 'panel view', 'lee', :t)"
        ),
        {"id": f"{criterion_id}-{at}", "r": review_id, "c": criterion_id, "t": at},
    )
    conn.execute(
        text(
            "INSERT INTO audit_events (review_id, at, actor, action, criterion_id, before, after)"
            " VALUES (:r, :t, 'lee', 'consensus_set', :c, '{\"grade\": \"met\"}', :a)"
        ),
        {"r": review_id, "t": at, "c": criterion_id, "a": json.dumps(event_after) if event_after else None},
    )


def test_a_database_at_0005_keeps_its_blind_jobs_blind_and_its_consensus_rounds(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "0005")
    with engine.begin() as conn:
        insert_review(conn, "b" * 32, "claude-sonnet-5-5+blind", 2.0)
        insert_review(conn, "s" * 32, "claude-sonnet-5-5", 1.0)
        insert_consensus(conn, "b" * 32, "handover", 10.0, {"grade": "partial", "reason": "x", "round": 2})
        insert_consensus(conn, "b" * 32, "data_safety", 11.0, {"grade": "partial", "reason": "x"})  # before rounds
        insert_consensus(conn, "s" * 32, "handover", 12.0, {"grade": "partial", "round": "two"})  # not a number
    engine.dispose()

    store = store_at(database_url)

    assert current_revision(store.engine) == head_revision()
    blind, sighted = store.get("b" * 32), store.get("s" * 32)
    assert (blind.model, blind.blind, blind.result) == ("claude-sonnet-5-5", True, '{"kept": true}')
    assert (sighted.model, sighted.blind) == ("claude-sonnet-5-5", False)
    # the identities queued before the upgrade still deduplicate to the same jobs
    assert store.find_same(SHA, "r", "1", "anthropic", "claude-sonnet-5-5", blind=True).id == "b" * 32
    assert store.find_same(SHA, "r", "1", "anthropic", "claude-sonnet-5-5").id == "s" * 32
    again, created = store.create_or_get(
        new_job(7, backend="anthropic", model="claude-sonnet-5-5", sha256=SHA, blind=True)
    )
    assert (again.id, created) == ("b" * 32, False)
    _, decided = store.panel_rows("b" * 32)
    assert {c.criterion_id: c.round for c in decided} == {"handover": 2, "data_safety": 1}
    assert [c.round for c in store.panel_rows("s" * 32)[1]] == [1]
    # the upgraded tables have the columns and the model column no longer carries the mark
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT model FROM reviews WHERE id = :i"), {"i": "b" * 32}).scalar_one() == (
            "claude-sonnet-5-5"
        )
        columns = {c["name"] for c in inspect(conn).get_columns("consensus")}
    assert "round" in columns


def test_a_blind_job_with_a_model_id_filling_the_column_is_queued_and_read_back(database_url):
    store = store_at(database_url)
    model = "m" * 64  # no room left for a suffix: before 0006 such a blind job was refused
    job = store.create(new_job(1, backend="anthropic", model=model, blind=True))
    assert store.get(job.id).model == model and store.get(job.id).blind is True
    assert store.find_same(f"{1:064x}", "r", "1", "anthropic", model, blind=False) is None


def test_a_consensus_set_on_round_2_is_stored_with_its_round(database_url):
    from reviewer.review import Grade

    store = store_at(database_url)
    job = store.create(new_job(2))
    store.set_consensus(job.id, "handover", "lee", Grade.PARTIAL, "closed by the answer", before=None, round_number=2)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT round FROM consensus")).scalar_one() == 2
    assert [c.round for c in store.panel_rows(job.id)[1]] == [2]
