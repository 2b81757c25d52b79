"""Reading finished jobs back: the stored Review of a job, and the comparison entry for a job, with one
rule for which vendor name it is shown under. Every shell that compares reviews goes through here."""

from pathlib import Path

from reviewer.assessment import Panel, final_review
from reviewer.comparison import AuditLine, Entry
from reviewer.render.failures import failure_reason
from reviewer.review import Review
from reviewer.store import FINISHED_STATUSES, JobRecord, PanelStore


def is_finished(job: JobRecord) -> bool:
    return job.status in FINISHED_STATUSES


def review_of(job: JobRecord | None) -> Review | None:
    """The job's Review, or None while it has none (queued, running, failed, deleted)."""
    if job is None or not job.result:
        return None
    return Review.model_validate_json(job.result)


def default_vendor(file_name: str) -> str:
    """The vendor name a file gets when nobody gave one and the grader read none: its stem, in words."""
    return Path(file_name).stem.replace("_", " ").replace("-", " ").strip().title() or file_name


def vendor_for(file_name: str, job: JobRecord | None, review: Review | None, override: str | None = None) -> str:
    """Who a proposal is from: the name given for this file (a mapping, a form field), else the name
    recorded on the job, else the name the grader read in the proposal, else the file's name."""
    return (
        (override or "").strip()
        or (job.vendor_name if job else None)
        or (review.vendor_name if review else None)
        or default_vendor(file_name)
    )


def panel_of(store: PanelStore, job_id: str) -> Panel:
    """Everything the panel recorded on a review."""
    found, decided = store.panel_rows(job_id)
    return Panel(assessments=found, consensus=decided)


def audit_lines(store: PanelStore, entries: list[Entry]) -> list[AuditLine]:
    """The panel's events on every reviewed entry, oldest first, under the entry's (possibly anonymised) name."""
    lines = []
    for entry in entries:
        if entry.review_id is None:
            continue
        events, _ = store.events(entry.review_id, limit=10_000)
        lines += [
            AuditLine(
                vendor=entry.vendor,
                at=e.at,
                actor=e.actor,
                action=e.action,
                criterion_id=e.criterion_id,
                change=e.change,
            )
            for e in events
        ]
    return sorted(lines, key=lambda line: line.at)


def entry_of(
    job: JobRecord | None,
    file_name: str,
    *,
    vendor: str | None = None,
    missing: str = "the review was deleted",
    panel: Panel | None = None,
) -> Entry:
    """The comparison entry for one proposal's job (None: the job no longer exists); with `panel`, the
    review carries the panel's final grades (an evaluation compares what the panel decided)."""
    review = review_of(job)
    if review is not None and panel is not None:
        review = final_review(review, panel)
    if job is None:
        error = missing
    elif review is not None:
        error = None
    elif job.error_code:  # our words by code: the stored message may carry a library's text (bytes of the file)
        error = f"{job.error_code}: {failure_reason(job.error_code)}"
    else:
        error = f"review {job.status.value}"
    return Entry(
        vendor=vendor_for(file_name, job, review, vendor),
        file_name=file_name,
        review_id=job.id if job else None,
        review=review,
        error=error,
    )


def failed_entry(file_name: str, error: str, *, vendor: str | None = None) -> Entry:
    """A proposal that never became a job (unreadable, refused at intake)."""
    return Entry(vendor=vendor_for(file_name, None, None, vendor), file_name=file_name, error=error)
