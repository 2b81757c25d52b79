import threading
import time

from reviewer.store import FileStore, JobStatus, JobStore, NewJob, make_engine


def new_job(n: int = 0) -> NewJob:
    return NewJob(
        file_name=f"p{n}.pdf",
        vendor_name=None,
        sha256=f"{n:064x}",
        size_bytes=10,
        rubric_name="default",
        rubric_id="r",
        rubric_version="1",
        backend="offline",
        model="-",
    )


def store_at(tmp_path) -> JobStore:
    return JobStore(make_engine(f"sqlite:///{tmp_path / 'jobs.db'}"))


def test_jobs_are_claimed_oldest_first_and_once(tmp_path):
    store = store_at(tmp_path)
    first, second = store.create(new_job(1)), store.create(new_job(2))
    claimed = store.claim("w1", lease_seconds=60, max_attempts=3)
    assert claimed.id == first.id and claimed.status is JobStatus.RUNNING and claimed.attempts == 1
    assert store.claim("w2", 60, 3).id == second.id
    assert store.claim("w3", 60, 3) is None


def test_concurrent_claimers_in_separate_connections_never_share_a_job(tmp_path):
    ids = {store_at(tmp_path).create(new_job(n)).id for n in range(40)}
    claims: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        store = store_at(tmp_path)  # its own engine, like another process
        while (job := store.claim(name, 60, 3)) is not None:
            with lock:
                claims.append(job.id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claims) == sorted(ids)


def test_a_running_job_whose_lease_expired_is_claimed_again(tmp_path):
    store = store_at(tmp_path)
    job = store.create(new_job())
    store.claim("dead-worker", lease_seconds=0.05, max_attempts=3)
    assert store.claim("w2", 60, 3) is None
    time.sleep(0.1)
    again = store.claim("w2", 60, 3)
    assert again.id == job.id and again.attempts == 2 and again.claimed_by == "w2"
    assert not store.complete(job.id, "dead-worker", "{}", None)  # the old worker can no longer finish it
    assert store.complete(job.id, "w2", "{}", "Vendor")
    assert store.get(job.id).status is JobStatus.DONE and store.get(job.id).vendor_name == "Vendor"


def test_heartbeat_keeps_the_lease(tmp_path):
    store = store_at(tmp_path)
    store.create(new_job())
    job = store.claim("w1", lease_seconds=0.2, max_attempts=3)
    time.sleep(0.1)
    assert store.heartbeat(job.id, "w1", lease_seconds=5)
    time.sleep(0.2)
    assert store.claim("w2", 60, 3) is None


def test_released_job_goes_back_to_the_queue_without_using_an_attempt(tmp_path):
    store = store_at(tmp_path)
    job = store.create(new_job())
    store.claim("w1", 60, 3)
    assert store.release(job.id, "w1")
    back = store.get(job.id)
    assert back.status is JobStatus.QUEUED and back.attempts == 0
    assert store.claim("w2", 60, 3).id == job.id


def test_a_job_that_kills_its_worker_every_time_is_eventually_failed(tmp_path):
    store = store_at(tmp_path)
    job = store.create(new_job())
    for _ in range(2):
        store.claim("w", lease_seconds=0.01, max_attempts=2)
        time.sleep(0.02)
    assert store.claim("w", 60, 2) is None
    assert store.fail_exhausted(max_attempts=2) == 1
    failed = store.get(job.id)
    assert failed.status is JobStatus.FAILED and failed.error_code == "worker_died"


def test_file_store_writes_by_hash_and_refuses_other_names(tmp_path):
    files = FileStore(tmp_path / "uploads")
    digest = "a" * 64
    files.put(digest, b"%PDF-1.7 data")
    assert files.get(digest) == b"%PDF-1.7 data"
    files.delete(digest)
    assert not files.path(digest).exists()
    import pytest

    with pytest.raises(ValueError):
        files.path("../../etc/passwd")
