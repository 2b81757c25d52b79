"""Clarification rounds in the store (on SQLite, and on PostgreSQL when available), and migration 0004."""

import time

from sqlalchemy import inspect, text, update

from reviewer.review import Grade
from reviewer.store import RoundStatus, make_engine
from reviewer.store.migrations import current_revision, head_revision, upgrade
from reviewer.store.rounds import STALE_ROUND_SECONDS, rounds
from tests.store.support import new_job, store_at

ANSWER_SHA = "a" * 64


def test_rounds_are_numbered_from_2_one_at_a_time_and_recorded_in_the_audit_trail(database_url):
    store = store_at(database_url)
    job = store.create(new_job(1))
    second = store.open_round(job.id, ANSWER_SHA, "answer.pdf", "ana")
    assert (second.number, second.status, second.opened_by) == (2, RoundStatus.QUEUED, "ana")
    assert store.open_round(job.id, ANSWER_SHA, "again.pdf", "ana") is None  # round 2 is not finished
    assert store.start_round(job.id, 2) and not store.start_round(job.id, 2)
    assert store.finish_round(job.id, 2, "ana", result_json='{"r": 2}', summary={"overall_score": 80.0})
    assert not store.finish_round(job.id, 2, "ana", result_json="{}")  # finished once only
    third = store.open_round(job.id, "b" * 64, "answer-2.pdf", "ben")
    assert third.number == 3
    store.start_round(job.id, 3)
    store.finish_round(job.id, 3, "ben", error=("no_text", "scanned"))
    found = store.rounds_of(job.id)
    assert [(r.number, r.status, r.result, r.error_code) for r in found] == [
        (2, RoundStatus.DONE, '{"r": 2}', None),
        (3, RoundStatus.FAILED, None, "no_text"),
    ]
    assert store.get_round(job.id, 2).finished_at is not None and store.get_round(job.id, 9) is None
    events, _ = store.events(job.id)
    assert [(e.action, e.actor) for e in events] == [
        ("round_opened", "ana"),
        ("round_finished", "ana"),
        ("round_opened", "ben"),
        ("round_finished", "ben"),
    ]
    assert events[1].after == {"round": 2, "status": "done", "overall_score": 80.0}
    assert events[3].after == {"round": 3, "status": "failed", "error": "no_text"}
    assert store.get(job.id).result is None  # round 1, the job itself, is not touched


def test_a_round_left_unfinished_by_a_stopped_process_is_failed_so_the_next_can_open(database_url):
    store = store_at(database_url)
    job = store.create(new_job(2))
    store.open_round(job.id, ANSWER_SHA, "answer.pdf", "ana")
    with store.engine.begin() as conn:
        conn.execute(update(rounds).values(created_at=time.time() - STALE_ROUND_SECONDS - 1))
    assert store.open_round(job.id, ANSWER_SHA, "answer.pdf", "ana").number == 3
    assert store.get_round(job.id, 2).error_code == "interrupted"


def test_a_database_at_0003_gains_the_rounds_table_and_keeps_its_reviews_and_panel(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "0003")
    job = new_job(3)
    with engine.begin() as conn:
        assert "rounds" not in inspect(conn).get_table_names()
        conn.execute(
            text(
                "INSERT INTO reviews (id, status, created_at, updated_at, file_name, sha256, size_bytes, rubric_name,"
                " rubric_id, rubric_version, backend, model, attempts, result) VALUES ('a1', 'done', 1, 1, :f, :s, 10,"
                " 'default', 'r', '1', 'offline', '-', 1, '{\"kept\": true}')"
            ),
            {"f": job.file_name, "s": job.sha256},
        )
        conn.execute(
            text(
                "INSERT INTO assessments (id, review_id, round, criterion_id, evaluator, grade, rejected_citations,"
                " citations, created_at) VALUES ('s1', 'a1', 1, 'data', 'ana', 'met', '[]', '[]', 1)"
            )
        )
        conn.execute(
            text("INSERT INTO audit_events (review_id, at, actor, action) VALUES ('a1', 1, 'ana', 'assessed')")
        )
    engine.dispose()
    store = store_at(database_url)
    assert current_revision(store.engine) == head_revision()
    assert store.get("a1").result == '{"kept": true}'
    assert [a.grade for a in store.panel_rows("a1")[0]] == [Grade.MET]
    assert store.open_round("a1", ANSWER_SHA, "answer.pdf", "ana").number == 2
    events, total = store.events("a1")
    assert total == 2 and [e.action for e in events] == ["assessed", "round_opened"]
