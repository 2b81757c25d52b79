"""Review ids as people type them, for every shell: a full id, or a unique prefix of MIN_PREFIX or more
characters (bulk, `reviewer reviews` and the API print full ids; people copy the start)."""

from reviewer.errors import BadInputError
from reviewer.store import JobStore

MIN_PREFIX = 4
SHOWN_CANDIDATES = 5


class AmbiguousReviewId(BadInputError):
    """A prefix that starts more than one review's id; `candidates` are some of them, newest first."""

    code = "ambiguous_id"

    def __init__(self, given: str, candidates: list[str], more: bool) -> None:
        listed = ", ".join(candidates) + (", ..." if more else "")
        super().__init__(f"review id '{given}' is ambiguous: it starts {listed}; give more characters")
        self.candidates = candidates


def resolve_review_id(store: JobStore, given: str) -> str:
    """The full id of the one review `given` names. Raises BadInputError not_found when none does, and
    AmbiguousReviewId when a prefix starts several."""
    if store.get(given) is not None:
        return given
    found = store.find_by_prefix(given.lower(), limit=SHOWN_CANDIDATES + 1) if len(given) >= MIN_PREFIX else []
    if len(found) == 1:
        return found[0].id
    if len(found) > 1:
        shown = [job.id for job in found[:SHOWN_CANDIDATES]]
        raise AmbiguousReviewId(given, shown, more=len(found) > SHOWN_CANDIDATES)
    raise BadInputError(f"no review with id '{given}'", code="not_found")
