"""A review's egress log for every shell: the requests its grading sent, looked up by id or a unique prefix."""

from reviewer.egress import EgressLogView
from reviewer.errors import BadInputError
from reviewer.store import JobStore


def egress_log(store: JobStore, review_id: str) -> EgressLogView:
    """The log of `review_id` (a full id, or a unique prefix of 4+ characters). A deleted review's requests
    stay in the log and are found by the full id. Raises not_found for an id with neither."""
    records = store.egress_of(review_id)
    if records or store.get(review_id) is not None:
        return EgressLogView.of(review_id, records)
    found = store.find_by_prefix(review_id) if len(review_id) >= 4 else []
    if len(found) > 1:
        raise BadInputError(f"review id '{review_id}' is ambiguous: give more characters", code="ambiguous_id")
    if not found:
        raise BadInputError(f"no review with id '{review_id}'", code="not_found")
    return EgressLogView.of(found[0].id, store.egress_of(found[0].id))
