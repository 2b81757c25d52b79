"""What an evaluator of a blind panel sees of a review: a label instead of the vendor, the file's name and
its hash (the key to the names stays with the lead). Every shell that shows a review goes through here."""

from dataclasses import dataclass

from reviewer.queue.panel import PanelService
from reviewer.queue.rounds import RoundView
from reviewer.review import Review
from reviewer.store import AuditEvent, JobRecord, JobStore

HIDDEN_KEYS = ("file_name", "sha256", "vendor_name")


def blind_label(review_id: str) -> str:
    return f"Vendor {review_id[:6]}"


def blinded(job: JobRecord, review: Review | None = None) -> tuple[JobRecord, Review | None]:
    """The job and its review with the vendor, the file name and the file's hash replaced by the label."""
    label = blind_label(job.id)
    hidden = {"vendor_name": label, "file_name": f"{label}.pdf", "sha256": "hidden"}
    job = job.model_copy(update=hidden)
    if review is not None:
        document = review.document.model_copy(update={"file_name": hidden["file_name"], "sha256": "hidden"})
        review = review.model_copy(update={"vendor_name": label, "document": document})
    return job, review


def blinded_event(job: JobRecord, event: AuditEvent) -> AuditEvent:
    """An audit event without the names a blind panel hides (e.g. review_created's file name)."""
    hidden = blinded(job)[0]

    def mask(value: object) -> object:
        if not isinstance(value, dict):
            return value
        return {k: (getattr(hidden, k) if k in HIDDEN_KEYS else v) for k, v in value.items()}

    return event.model_copy(update={"before": mask(event.before), "after": mask(event.after)})


@dataclass
class SeenReview:
    job: JobRecord
    review: Review | None  # the panel's final grades, as this viewer may see them; None until it is done
    blind: bool  # the review belongs to a blind panel
    masked: bool  # names are hidden from this viewer (a blind panel's evaluator other than the lead)


def review_as_seen_by(store: JobStore, panel: PanelService, job: JobRecord, viewer: str, *, lead: bool) -> SeenReview:
    """A review as one evaluator may see it: on a blind panel, other evaluators' grades only once they
    submitted their own, and labels instead of names unless they lead."""
    blind = store.in_blind_batch(job.id)
    review = panel.final(job, viewer=viewer, lead=lead, blind=blind)
    masked = blind and not lead
    if masked:
        job, review = blinded(job, review)
    return SeenReview(job=job, review=review, blind=blind, masked=masked)


def _label(number: int, review_id: str) -> str:
    label = blind_label(review_id)
    return f"{label}.pdf" if number == 1 else f"{label} answer {number}.pdf"


def blinded_rounds(views: list[RoundView], review_id: str) -> list[RoundView]:
    """Rounds as a blind panel's evaluator sees them: every file and the vendor named by a label."""
    names = {v.file_name: _label(v.number, review_id) for v in views}
    parts = list(names.values())

    def relabel(citation):
        if citation.document is None:
            return citation
        return citation.model_copy(update={"document": names.get(citation.document, "answer")})

    labelled = []
    for view in views:
        changes = [c.model_copy(update={"closed_by": [relabel(q) for q in c.closed_by]}) for c in view.changes]
        review = view.review
        if review is not None:
            findings = [f.model_copy(update={"citations": [relabel(c) for c in f.citations]}) for f in review.findings]
            review = review.model_copy(
                update={
                    "vendor_name": blind_label(review_id),
                    "findings": findings,
                    "document": review.document.model_copy(update={"file_name": " + ".join(parts[: view.number])}),
                }
            )
        labelled.append(
            view.model_copy(update={"file_name": names[view.file_name], "changes": changes, "review": review})
        )
    return labelled
