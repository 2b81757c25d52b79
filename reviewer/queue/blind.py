"""What an evaluator of a blind panel sees of a review: a label instead of the vendor, the file's name and
its hash (the key to the names stays with the lead). Every shell that shows a review goes through here."""

from dataclasses import dataclass

from reviewer.queue.panel import PanelService
from reviewer.queue.rounds import RoundView
from reviewer.review import Citation, Review
from reviewer.store import AuditEvent, JobRecord, JobStore, RoundRecord, RoundStatus

HIDDEN_KEYS = ("file_name", "sha256", "vendor_name")


def blind_label(review_id: str) -> str:
    return f"Vendor {review_id[:6]}"


def _file_label(review_id: str, number: int) -> str:
    label = blind_label(review_id)
    return f"{label}.pdf" if number == 1 else f"{label} answer {number}.pdf"


def _blind_citation(citation: Citation, names: dict[str, str]) -> Citation:
    if citation.document is None:
        return citation
    return citation.model_copy(update={"document": names.get(citation.document, "answer")})


def blinded(
    job: JobRecord, review: Review | None = None, records: list[RoundRecord] | None = None
) -> tuple[JobRecord, Review | None]:
    """The job and its review with the vendor, the file name and the file's hash replaced by the label; a
    later round's review (`records`: the review's rounds) also names every file it quotes by a label."""
    records = records or []
    label = blind_label(job.id)
    names = {job.file_name: _file_label(job.id, 1), **{r.file_name: _file_label(job.id, r.number) for r in records}}
    hidden = {"vendor_name": label, "file_name": names[job.file_name], "sha256": "hidden"}
    blinded_job = job.model_copy(update=hidden)
    if review is not None:
        used = [r for r in records if r.number <= review.round and r.status is RoundStatus.DONE]
        shown = " + ".join([names[job.file_name], *(names[r.file_name] for r in used)])
        document = review.document.model_copy(update={"file_name": shown, "sha256": "hidden"})
        findings = [
            f.model_copy(update={"citations": [_blind_citation(c, names) for c in f.citations]})
            for f in review.findings
        ]
        review = review.model_copy(update={"vendor_name": label, "document": document, "findings": findings})
    return blinded_job, review


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
        job, review = blinded(job, review, store.rounds_of(job.id))
    return SeenReview(job=job, review=review, blind=blind, masked=masked)


def blinded_rounds(views: list[RoundView], review_id: str) -> list[RoundView]:
    """Rounds as a blind panel's evaluator sees them: every file and the vendor named by a label."""
    names = {v.file_name: _file_label(review_id, v.number) for v in views}
    parts = list(names.values())

    def relabel(citation: Citation) -> Citation:
        return _blind_citation(citation, names)

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
                    "document": review.document.model_copy(
                        update={"file_name": " + ".join(parts[: view.number]), "sha256": "hidden"}
                    ),
                }
            )
        labelled.append(
            view.model_copy(update={"file_name": names[view.file_name], "changes": changes, "review": review})
        )
    return labelled
