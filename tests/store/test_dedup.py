"""Deduplication is one atomic step in the database: the same file queued by two processes at the same instant
gives one job; `force` queues a new one, which the identity then deduplicates to."""

import threading

from reviewer.store import JobStatus
from tests.store.support import new_job, store_at


def test_two_processes_queuing_the_same_file_at_once_get_one_job(database_url):
    store_at(database_url)  # schema in place, so the race is over the job and not the upgrade
    rounds, per_round = 5, 4
    outcomes: list[tuple[int, str, bool]] = []
    lock = threading.Lock()
    stores = [store_at(database_url) for _ in range(per_round)]  # one engine each, like separate servers
    for n in range(rounds):
        barrier = threading.Barrier(per_round)

        def post(store, n=n, barrier=barrier) -> None:
            barrier.wait()
            job, created = store.create_or_get(new_job(n))
            with lock:
                outcomes.append((n, job.id, created))

        threads = [threading.Thread(target=post, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for n in range(rounds):
        mine = [o for o in outcomes if o[0] == n]
        assert len({job_id for _, job_id, _ in mine}) == 1, mine
        assert sum(created for _, _, created in mine) == 1
    assert stores[0].list_jobs(None, 100, 0)[1] == rounds


def test_find_then_create_without_the_atomic_step_would_make_two_jobs(database_url):
    """What the old code did (find_same, then create): both callers look before either inserts."""
    a, b = store_at(database_url), store_at(database_url)
    job = new_job(1)
    assert a.find_same(job.sha256, "r", "1", "offline", "-") is None
    assert b.find_same(job.sha256, "r", "1", "offline", "-") is None
    first, created_first = a.create_or_get(job)
    second, created_second = b.create_or_get(job)
    assert created_first and not created_second and second.id == first.id


def test_force_queues_a_new_job_that_takes_over_the_identity(database_url):
    store = store_at(database_url)
    old, _ = store.create_or_get(new_job())
    forced, created = store.create_or_get(new_job(), force=True)
    assert created and forced.id != old.id
    assert store.create_or_get(new_job()) == (forced, False)
    assert store.find_same(old.sha256, "r", "1", "offline", "-").id == forced.id
    assert store.get(old.id).status is JobStatus.QUEUED  # the old job is still there, it just is not reused


def test_concurrent_forced_uploads_each_queue_a_job(database_url):
    stores = [store_at(database_url) for _ in range(4)]
    barrier = threading.Barrier(4)
    made: list[str] = []

    def post(store) -> None:
        barrier.wait()
        made.append(store.create_or_get(new_job(), force=True)[0].id)

    threads = [threading.Thread(target=post, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 4
    assert stores[0].create_or_get(new_job())[0].id in made


def test_a_failed_job_frees_its_identity_for_a_new_one(database_url):
    store = store_at(database_url)
    job, _ = store.create_or_get(new_job())
    store.claim_job(job.id, "w", 60)
    store.fail(job.id, "w", "boom", "it broke")
    again, created = store.create_or_get(new_job())
    assert created and again.id != job.id


def test_a_job_graded_under_an_edited_rubric_is_found_under_that_version(database_url):
    store = store_at(database_url)
    job, _ = store.create_or_get(new_job())
    store.claim_job(job.id, "w", 60)
    assert store.complete(job.id, "w", "{}", None, rubric=("r", "2"))
    assert store.create_or_get(new_job(rubric_version="2")) == (store.get(job.id), False)
    fresh, created = store.create_or_get(new_job())  # version 1 no longer has a live job
    assert created and fresh.id != job.id


def test_a_job_regraded_onto_an_identity_that_already_has_a_live_job_keeps_that_one(database_url):
    store = store_at(database_url)
    v2, _ = store.create_or_get(new_job(rubric_version="2"))
    job, _ = store.create_or_get(new_job())
    store.claim_job(job.id, "w", 60)
    assert store.complete(job.id, "w", "{}", None, rubric=("r", "2"))
    assert store.create_or_get(new_job(rubric_version="2"))[0].id == v2.id
    assert store.get(job.id).status is JobStatus.DONE
