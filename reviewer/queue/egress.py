"""A review's egress log for every shell: the requests its grading sent, looked up by id or a unique prefix."""

from reviewer.egress import EgressLogView
from reviewer.queue.review_ids import resolve_review_id
from reviewer.store import JobStore


def egress_log(store: JobStore, review_id: str) -> EgressLogView:
    """The log of `review_id` (a full id, or a unique prefix of 4+ characters). A deleted review's requests
    stay in the log and are found by the full id. Raises not_found for an id with neither."""
    records = store.egress_of(review_id)
    if records or store.get(review_id) is not None:
        return EgressLogView.of(review_id, records)
    found = resolve_review_id(store, review_id)
    return EgressLogView.of(found, store.egress_of(found))
