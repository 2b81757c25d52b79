from sqlalchemy import select

from reviewer.store import NotificationStatus
from reviewer.store.notifications import notifications
from tests.store.support import new_job, store_at


def stored_statuses(store) -> list[NotificationStatus]:
    with store.engine.connect() as conn:
        return [NotificationStatus(s) for s in conn.execute(select(notifications.c.status)).scalars()]


def test_a_notification_is_pending_then_sent(database_url):
    store = store_at(database_url)
    job = store.create(new_job())
    store.add_notification(job.id, "slack", {"channel": "C1"})
    assert stored_statuses(store) == [NotificationStatus.PENDING]
    store.claim_job(job.id, "w", 60)
    store.fail(job.id, "w", "boom", "it broke")  # failed is finished too: the outcome is posted
    [(notification, job_after)] = store.claim_notifications("slack", "w", 60)
    assert job_after.error_code == "boom"
    store.mark_sent(notification.id)
    assert stored_statuses(store) == [NotificationStatus.SENT]


def test_a_notification_whose_attempts_ran_out_is_abandoned(database_url):
    store = store_at(database_url)
    job = store.create(new_job())
    store.add_notification(job.id, "slack", {"channel": "C1"})
    store.delete(job.id)  # a deleted job's notification is still delivered (to say so)
    for _ in range(2):
        assert len(store.claim_notifications("slack", "w", lease_seconds=0, max_attempts=2)) == 1
    assert store.claim_notifications("slack", "w", lease_seconds=0, max_attempts=2) == []
    assert stored_statuses(store) == [NotificationStatus.ABANDONED]
