import threading
import time

from reviewer.store import FINISHED_STATUSES, BatchItem, JobStatus
from tests.store.support import new_job, store_at


def test_jobs_are_claimed_oldest_first_and_once(database_url):
    store = store_at(database_url)
    first, second = store.create(new_job(1)), store.create(new_job(2))
    claimed = store.claim("w1", lease_seconds=60, max_attempts=3)
    assert claimed.id == first.id and claimed.status is JobStatus.RUNNING and claimed.attempts == 1
    assert store.claim("w2", 60, 3).id == second.id
    assert store.claim("w3", 60, 3) is None


def test_concurrent_claimers_in_separate_connections_never_share_a_job(database_url):
    ids = {store_at(database_url).create(new_job(n)).id for n in range(40)}
    claims: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        store = store_at(database_url)  # its own engine, like another process
        while (job := store.claim(name, 60, 3)) is not None:
            with lock:
                claims.append(job.id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claims) == sorted(ids)


def test_a_running_job_whose_lease_expired_is_claimed_again(database_url):
    store = store_at(database_url)
    job = store.create(new_job())
    store.claim("dead-worker", lease_seconds=1.0, max_attempts=3)  # long enough to outlast a busy machine's pause
    assert store.claim("w2", 60, 3) is None
    time.sleep(1.1)
    again = store.claim("w2", 60, 3)
    assert again.id == job.id and again.attempts == 2 and again.claimed_by == "w2"
    assert not store.complete(job.id, "dead-worker", "{}", None)  # the old worker can no longer finish it
    assert store.complete(job.id, "w2", "{}", "Vendor")
    assert store.get(job.id).status is JobStatus.DONE and store.get(job.id).vendor_name == "Vendor"


def test_heartbeat_keeps_the_lease(database_url):
    store = store_at(database_url)
    store.create(new_job())
    job = store.claim("w1", lease_seconds=0.2, max_attempts=3)
    time.sleep(0.1)
    assert store.heartbeat(job.id, "w1", lease_seconds=5)
    time.sleep(0.2)
    assert store.claim("w2", 60, 3) is None


def test_released_job_goes_back_to_the_queue_without_using_an_attempt(database_url):
    store = store_at(database_url)
    job = store.create(new_job())
    store.claim("w1", 60, 3)
    assert store.release(job.id, "w1")
    back = store.get(job.id)
    assert back.status is JobStatus.QUEUED and back.attempts == 0
    assert store.claim("w2", 60, 3).id == job.id


def test_a_job_that_kills_its_worker_every_time_is_eventually_failed(database_url):
    store = store_at(database_url)
    job = store.create(new_job())
    for _ in range(2):
        store.claim("w", lease_seconds=0.01, max_attempts=2)
        time.sleep(0.02)
    assert store.claim("w", 60, 2) is None
    assert store.fail_exhausted(max_attempts=2) == 1
    failed = store.get(job.id)
    assert failed.status is JobStatus.FAILED and failed.error_code == "worker_died"


def test_batches_notifications_and_short_ids(database_url):
    store = store_at(database_url)
    job = store.create(new_job(7))
    assert [j.id for j in store.find_by_prefix(job.id[:8])] == [job.id]
    assert store.find_by_prefix("zz") == [] and store.statuses([job.id]) == {job.id: JobStatus.QUEUED}
    batch = store.create_batch("default", True, [BatchItem(file_name="a.pdf", job_id=job.id)])
    assert store.get_batch(batch.id).items[0].job_id == job.id and store.get_batch(batch.id).anonymize
    store.add_notification(job.id, "slack", {"channel": "C1", "thread": "1.2"})
    assert store.claim_notifications("slack", "w", 60) == []  # the job has not finished
    store.claim("w", 60, 3)
    store.complete(job.id, "w", "{}", None)
    [(notification, finished)] = store.claim_notifications("slack", "w", 60)
    assert notification.target == {"channel": "C1", "thread": "1.2"} and finished.status is JobStatus.DONE
    assert store.claim_notifications("slack", "other", 60) == []  # taken once
    store.mark_sent(notification.id)


def test_every_job_status_round_trips_as_its_enum(database_url):
    store = store_at(database_url)
    queued, done, failed = (store.create(new_job(n)) for n in range(3))
    running = store.create(new_job(3))
    for job in (done, failed, running):
        assert store.claim_job(job.id, "w", 60) is not None
    store.complete(done.id, "w", "{}", None)
    store.fail(failed.id, "w", "boom", "it broke")
    seen = {job.id: job.status for job in store.list_jobs(None, 10, 0)[0]}
    assert seen == {
        queued.id: JobStatus.QUEUED,
        done.id: JobStatus.DONE,
        failed.id: JobStatus.FAILED,
        running.id: JobStatus.RUNNING,
    }
    assert all(type(status) is JobStatus for status in seen.values())
    assert [j.id for j in store.list_jobs(JobStatus.FAILED, 10, 0)[0]] == [failed.id]
    assert {JobStatus.DONE, JobStatus.FAILED} == FINISHED_STATUSES
