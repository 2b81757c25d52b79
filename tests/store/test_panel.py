"""Assessments, consensus and the audit trail in the store (on SQLite, and on PostgreSQL when available)."""

import inspect as pyinspect

import pytest
from sqlalchemy import delete, inspect, text, update
from sqlalchemy.exc import DBAPIError

from reviewer.review import Citation, Grade
from reviewer.store import PanelStore, make_engine
from reviewer.store.migrations import current_revision, head_revision, upgrade
from reviewer.store.panel import audit_events
from tests.store.support import new_job, store_at


def test_assessments_and_consensus_round_trip_with_their_audit_events(database_url):
    store = store_at(database_url)
    job = store.create(new_job(1))
    quote = Citation(page=2, quote="We delete client data on request.", verified=True, start=0, end=33)
    first = store.add_assessment(
        job.id, "data", "ana", Grade.PARTIAL, reason="only on request", note=None,
        rejected_citations=[0], citations=[quote], before=Grade.MET,
    )  # fmt: skip
    store.set_consensus(job.id, "data", "lead", Grade.MISSING, "no retention terms", before=Grade.PARTIAL)
    found, decided = store.panel_rows(job.id)
    assert found == [first] and found[0].citations == [quote] and found[0].rejected_citations == [0]
    assert [(c.grade, c.lead) for c in decided] == [(Grade.MISSING, "lead")]
    events, total = store.events(job.id)
    assert total == 2 and [e.action for e in events] == ["assessed", "consensus_set"]
    assert events[0].actor == "ana" and events[0].before == {"grade": "met"} and events[0].after["grade"] == "partial"
    assert events[1].before == {"grade": "partial"} and events[1].after == {
        "grade": "missing",
        "reason": "no retention terms",
        "round": 1,
    }
    page, total = store.events(job.id, limit=1, offset=1)
    assert [e.action for e in page] == ["consensus_set"] and total == 2


def test_deleting_a_review_keeps_a_tombstone_and_drops_its_assessments(database_url):
    store = store_at(database_url)
    job = store.create(new_job(2))
    store.add_assessment(
        job.id, "data", "ana", Grade.MET, reason=None, note=None, rejected_citations=[], citations=[], before=Grade.MET
    )
    store.delete(job.id)
    store.forget_panel(job.id, "ben", {"file_name": job.file_name})
    assert store.panel_rows(job.id) == ([], [])
    events, _ = store.events(job.id)
    assert [e.action for e in events] == ["assessed", "review_deleted"]
    assert events[-1].actor == "ben" and events[-1].before == {"file_name": job.file_name}


def test_the_audit_trail_has_no_update_or_delete_path(database_url):
    event_methods = [name for name, _ in pyinspect.getmembers(PanelStore, pyinspect.isfunction) if "event" in name]
    assert sorted(event_methods) == ["events", "record_event"]  # read and append; nothing else touches events
    store = store_at(database_url)
    store.record_event("r1", "ana", "report_exported", after={"format": "md"})
    for statement in (update(audit_events).values(actor="mallory"), delete(audit_events)):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(statement)
    events, _ = store.events("r1")
    assert [(e.actor, e.action) for e in events] == [("ana", "report_exported")]


def test_a_database_at_the_previous_revision_gains_the_panel_tables_and_keeps_its_reviews(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "0002")  # what the previous release left: no panel tables
    job = new_job(3)
    with engine.begin() as conn:
        assert "assessments" not in inspect(conn).get_table_names()
        conn.execute(
            text(
                "INSERT INTO reviews (id, status, created_at, updated_at, file_name, sha256, size_bytes, rubric_name,"
                " rubric_id, rubric_version, backend, model, attempts, result) VALUES ('a1', 'done', 1, 1, :f, :s, 10,"
                " 'default', 'r', '1', 'offline', '-', 1, '{\"kept\": true}')"
            ),
            {"f": job.file_name, "s": job.sha256},
        )
    engine.dispose()
    store = store_at(database_url)  # the current code starts on it and upgrades in place
    assert current_revision(store.engine) == head_revision()
    assert store.get("a1").result == '{"kept": true}'
    store.add_assessment(
        "a1", "data", "ana", Grade.MET, reason=None, note=None, rejected_citations=[], citations=[], before=Grade.MET
    )
    assert len(store.panel_rows("a1")[0]) == 1 and store.events("a1")[1] == 1


def test_each_assessment_and_consensus_reads_back_the_round_it_was_made_on(database_url):
    store = store_at(database_url)
    job = store.create(new_job(1))
    kwargs = {"reason": "r", "note": None, "rejected_citations": [], "citations": [], "before": Grade.MET}
    store.add_assessment(job.id, "data", "ana", Grade.PARTIAL, **kwargs)
    store.add_assessment(job.id, "data", "ana", Grade.MISSING, **kwargs, round_number=2)
    store.set_consensus(job.id, "data", "lead", Grade.MISSING, "r", before=None)
    store.set_consensus(job.id, "data", "lead", Grade.MET, "r", before=None, round_number=3)
    store.set_consensus(job.id, "code", "lead", Grade.MET, "r", before=None, round_number=2)
    found, decided = store.panel_rows(job.id)
    assert [a.round for a in found] == [1, 2]
    assert [(c.criterion_id, c.round) for c in decided] == [("data", 1), ("data", 3), ("code", 2)]
    events, _ = store.events(job.id)
    assert [e.after["round"] for e in events] == [1, 2, 1, 3, 2]
