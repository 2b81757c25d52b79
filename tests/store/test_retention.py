"""Retention (REVIEWER_RETENTION_DAYS): old reviews go with their rounds, panel grades and the files only they
used; recent and live ones stay, a file shared with a kept review or round stays, the audit trail keeps a
tombstone. On SQLite, and on PostgreSQL when available."""

import time

import pytest
from sqlalchemy import update

from reviewer.queue.retention import DAY_SECONDS, RetentionService
from reviewer.review import Grade
from reviewer.store import BatchItem, FileStore
from reviewer.store.batches import batches
from reviewer.store.jobs import reviews
from reviewer.store.panel import assessments
from reviewer.store.rounds import rounds
from tests.store.support import new_job, store_at

OLD = 40  # days ago, with a 30-day retention
RECENT = 3


def _finished(store, n: int, **changes):
    job = store.create(new_job(n, **changes))
    claimed = store.claim_job(job.id, "w", 60)
    assert store.complete(claimed.id, "w", '{"ok": true}', None)
    return store.get(job.id)


def _round(store, review_id: str, sha256: str, name: str) -> int:
    opened = store.open_round(review_id, sha256, name, "ana")
    store.start_round(review_id, opened.number)
    store.finish_round(review_id, opened.number, "ana", result_json="{}")
    return opened.number


def _age(store, review_id: str, days: float) -> None:
    """Move everything of a review `days` into the past."""
    back = days * DAY_SECONDS
    with store.engine.begin() as conn:
        conn.execute(
            update(reviews)
            .where(reviews.c.id == review_id)
            .values(
                created_at=reviews.c.created_at - back,
                updated_at=reviews.c.updated_at - back,
                finished_at=reviews.c.finished_at - back,
            )
        )
        conn.execute(
            update(rounds)
            .where(rounds.c.review_id == review_id)
            .values(created_at=rounds.c.created_at - back, finished_at=rounds.c.finished_at - back)
        )
        conn.execute(
            update(assessments)
            .where(assessments.c.review_id == review_id)
            .values(created_at=assessments.c.created_at - back)
        )


def _sha(letter: str) -> str:
    return letter * 64


@pytest.fixture
def world(database_url, tmp_path):
    """Reviews of every kind, each with its files stored."""
    store = store_at(database_url)
    files = FileStore(tmp_path / "uploads")
    old = _finished(store, 1)  # with two rounds and an assessment: all of it old
    _round(store, old.id, _sha("a"), "answer.pdf")
    _round(store, old.id, _sha("b"), "answer-2.pdf")
    store.add_assessment(
        old.id, "c1", "ana", Grade.MET, reason=None, note=None, rejected_citations=[], citations=[], before=None
    )
    _age(store, old.id, OLD)
    recent = _finished(store, 2)
    _age(store, recent.id, RECENT)
    revisited = _finished(store, 3)  # finished long ago, but a round was graded on it three days ago
    _round(store, revisited.id, _sha("b"), "answer.pdf")  # the same answer file as old's round 3
    _age(store, revisited.id, OLD)
    with store.engine.begin() as conn:
        conn.execute(update(rounds).where(rounds.c.review_id == revisited.id).values(finished_at=time.time()))
    shared_old = _finished(store, 4)
    shared_recent = _finished(store, 4, rubric_version="2")  # the same file under another rubric version
    _age(store, shared_old.id, OLD)
    waiting = store.create(new_job(5))  # queued for 40 days (no worker): never purged
    _age(store, waiting.id, OLD)
    failed = store.create(new_job(6))
    store.fail(store.claim_job(failed.id, "w", 60).id, "w", "no_text", "scanned")
    _age(store, failed.id, OLD)
    for n in range(1, 7):
        files.put(f"{n:064x}", b"%d" % n * 100)
    for letter in "ab":
        files.put(_sha(letter), letter.encode() * 50)
    only_old = store.create_batch("default", False, [BatchItem(file_name="p1.pdf", job_id=old.id)])
    both = [BatchItem(file_name="p1.pdf", job_id=old.id), BatchItem(file_name="p2.pdf", job_id=recent.id)]
    mixed = store.create_batch("default", False, both)
    with store.engine.begin() as conn:
        conn.execute(update(batches).values(created_at=time.time() - OLD * DAY_SECONDS))
    return {
        "store": store,
        "files": files,
        "service": RetentionService(store, files),
        "ids": {
            "old": old.id,
            "recent": recent.id,
            "revisited": revisited.id,
            "shared_old": shared_old.id,
            "shared_recent": shared_recent.id,
            "waiting": waiting.id,
            "failed": failed.id,
        },
        "batches": {"only_old": only_old.id, "mixed": mixed.id},
    }


def test_old_reviews_go_with_their_rounds_grades_and_own_files_and_leave_a_tombstone(world):
    store, files, ids = world["store"], world["files"], world["ids"]
    events_before, _ = store.events(ids["old"])

    report = world["service"].purge(30)

    assert sorted(r.id for r in report.reviews) == sorted([ids["old"], ids["shared_old"], ids["failed"]])
    assert report.rounds == 2 and report.batches == 1 and not report.dry_run
    removed = {f.sha256 for f in report.files}
    assert removed == {f"{1:064x}", f"{6:064x}", _sha("a")}  # each named only by purged reviews
    assert report.freed_bytes == 100 + 100 + 50
    for sha in removed:
        assert not files.path(sha).exists()
    for kept in (f"{2:064x}", f"{3:064x}", f"{4:064x}", f"{5:064x}", _sha("b")):
        assert files.path(kept).exists(), kept  # a kept review's upload, or a kept round's answer
    for name in ("old", "shared_old", "failed"):
        assert store.get(ids[name]) is None
    for name in ("recent", "revisited", "shared_recent", "waiting"):
        assert store.get(ids[name]) is not None, name
    assert store.rounds_of(ids["old"]) == [] and len(store.rounds_of(ids["revisited"])) == 1
    assert store.panel_rows(ids["old"]) == ([], [])
    events, _ = store.events(ids["old"])
    assert [e.action for e in events[:-1]] == [e.action for e in events_before]  # the trail stays whole
    tombstone = events[-1]
    assert (tombstone.action, tombstone.actor) == ("review_deleted", "retention")
    assert tombstone.before["file_name"] == "p1.pdf" and tombstone.before["reason"] == "retention"
    assert tombstone.before["rounds"] == 2
    assert store.get_batch(world["batches"]["only_old"]) is None
    assert store.get_batch(world["batches"]["mixed"]) is not None


def test_a_dry_run_lists_what_a_purge_deletes_and_deletes_nothing(world):
    store, files, ids = world["store"], world["files"], world["ids"]
    preview = world["service"].purge(30, dry_run=True)
    assert preview.dry_run
    for name in ids:
        assert store.get(ids[name]) is not None
    for n in range(1, 7):
        assert files.path(f"{n:064x}").exists()
    assert [e.action for e in store.events(ids["old"])[0]].count("review_deleted") == 0
    assert store.get_batch(world["batches"]["only_old"]) is not None

    done = world["service"].purge(30)
    assert [r.id for r in preview.reviews] == [r.id for r in done.reviews]
    assert {f.sha256 for f in preview.files} == {f.sha256 for f in done.files}
    assert (preview.rounds, preview.batches, preview.freed_bytes) == (done.rounds, done.batches, done.freed_bytes)


def test_a_second_purge_finds_nothing_and_writes_no_second_tombstone(world):
    service, store, ids = world["service"], world["store"], world["ids"]
    service.purge(30)
    again = service.purge(30)
    assert (again.reviews, again.files, again.rounds, again.batches) == ([], [], 0, 0)
    assert [e.action for e in store.events(ids["old"])[0]].count("review_deleted") == 1


def test_a_longer_period_keeps_more_and_a_review_expired_then_revisited_is_kept(world):
    store, ids = world["store"], world["ids"]
    assert world["service"].purge(60).reviews == []
    expired = store.expired_reviews(time.time() - 30 * DAY_SECONDS)
    found = next(r for r in expired if r.id == ids["old"])
    store.add_assessment(
        ids["old"], "c1", "ben", Grade.PARTIAL, reason="x", note=None, rejected_citations=[], citations=[], before=None
    )
    assert not store.purge_review(found, time.time() - 30 * DAY_SECONDS, "retention", time.time())
    assert store.get(ids["old"]) is not None


def test_rounds_left_by_a_deleted_review_are_purged_with_their_answer_files(database_url, tmp_path):
    store, files = store_at(database_url), FileStore(tmp_path / "uploads")
    job = _finished(store, 7)
    _round(store, job.id, _sha("c"), "answer.pdf")
    files.put(_sha("c"), b"answer")
    _age(store, job.id, OLD)
    store.delete(job.id)  # as DELETE /v1/reviews/{id} does: the round row stays behind
    assert store.references(_sha("c")) == 1  # a round's answer counts as a reference
    report = RetentionService(store, files).purge(30)
    assert report.rounds == 1 and [f.sha256 for f in report.files] == [_sha("c")]
    assert not files.path(_sha("c")).exists() and store.references(_sha("c")) == 0


def test_the_clock_decides_what_is_old(database_url, tmp_path):
    store, files = store_at(database_url), FileStore(tmp_path / "uploads")
    job = _finished(store, 8)
    files.put(f"{8:064x}", b"x")
    assert RetentionService(store, files).purge(30).reviews == []
    later = RetentionService(store, files, clock=lambda: time.time() + 31 * DAY_SECONDS)
    assert [r.id for r in later.purge(30).reviews] == [job.id]
    assert store.get(job.id) is None and not files.path(f"{8:064x}").exists()


def test_retention_needs_a_positive_number_of_days(database_url, tmp_path):
    service = RetentionService(store_at(database_url), FileStore(tmp_path / "uploads"))
    with pytest.raises(ValueError):
        service.purge(0)
