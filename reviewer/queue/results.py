"""Reading finished jobs back: the stored Review of a job, and the comparison entry for a job, with one
rule for which vendor name it is shown under. Every shell that compares reviews goes through here."""

from pathlib import Path

from reviewer.assessment import Panel, final_review
from reviewer.comparison import AuditLine, Comparison, Entry, MandatoryPolicy, build_comparison
from reviewer.errors import BadInputError
from reviewer.render.failures import failure_reason
from reviewer.review import Review
from reviewer.rubric import Rubric
from reviewer.store import (
    FINISHED_STATUSES,
    AuditEvent,
    JobRecord,
    JobStore,
    PanelStore,
    RoundRecord,
    RoundStatus,
)

HIDDEN_UNTIL_SUBMITTED = "hidden until you submit your own assessment of this criterion"


def is_finished(job: JobRecord) -> bool:
    return job.status in FINISHED_STATUSES


def review_of(job: JobRecord | None) -> Review | None:
    """The job's Review, or None while it has none (queued, running, failed, deleted)."""
    if job is None or not job.result:
        return None
    return Review.model_validate_json(job.result)


def round_review(job: JobRecord, record: RoundRecord) -> Review | None:
    """A later round's own Review (the grader's), marked with its round; None until the round is done."""
    if record.status is not RoundStatus.DONE or not record.result:
        return None
    review = Review.model_validate_json(record.result)
    return review.model_copy(update={"round": record.number, "vendor_name": job.vendor_name or review.vendor_name})


def review_in_round(store: JobStore, job: JobRecord, number: int | None = None) -> Review | None:
    """The grader's review of one round of the job (None: the latest done round, round 1 when no later
    round is done). Raises BadInputError when the round asked for does not exist or is not done."""
    if number is None:
        done = [r for r in store.rounds_of(job.id) if r.status is RoundStatus.DONE and r.result]
        return round_review(job, done[-1]) if done and job.result else review_of(job)
    if number == 1:
        return review_of(job)
    record = store.get_round(job.id, number) if number > 1 else None
    if record is None:
        known = ", ".join(str(n) for n in [1, *(r.number for r in store.rounds_of(job.id))])
        raise BadInputError(f"the review has no round {number} (its rounds: {known})", code="unknown_round")
    review = round_review(job, record)
    if review is None:
        raise BadInputError(
            f"round {number} is {record.status.value}; it has grades once it is done", code="round_not_done"
        )
    return review


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


def events_visible_to(events: list[AuditEvent], panel: Panel, viewer: str) -> list[AuditEvent]:
    """A blind panel's events as an evaluator other than the lead may read them (the rule of
    Panel.visible_to): another evaluator's assessment of a criterion keeps its place, actor and time, but
    not its grade, reason or note until `viewer` has submitted their own for that criterion and round."""
    shows = panel.shows_to(viewer)
    shown = []
    for event in events:
        if event.action == "assessed":
            number = event.after.get("round", 1) if isinstance(event.after, dict) else 1
            if not shows(event.actor, number, event.criterion_id):
                event = event.model_copy(
                    update={"before": None, "after": {"round": number, "hidden": HIDDEN_UNTIL_SUBMITTED}}
                )
        shown.append(event)
    return shown


def audit_lines(store: PanelStore, entries: list[Entry], viewer: str | None = None) -> list[AuditLine]:
    """The panel's events on every reviewed entry, oldest first, under the entry's (possibly anonymised) name;
    with `viewer`, as that evaluator of a blind panel may read them (events_visible_to)."""
    lines = []
    for entry in entries:
        if entry.review_id is None:
            continue
        events, _ = store.events(entry.review_id, limit=10_000)
        if viewer is not None:
            events = events_visible_to(events, panel_of(store, entry.review_id), viewer)
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


def evaluated_entry(
    store: JobStore,
    job: JobRecord | None,
    file_name: str,
    *,
    vendor: str | None = None,
    missing: str = "the review was deleted",
    blind_viewer: str | None = None,
) -> Entry:
    """The comparison entry of one proposal in an evaluation: its latest done round (the review's own
    round 1 when no answer has been graded) with the panel's final grades of that round; the entry's
    review says which round (`review.round`). `blind_viewer`: a blind panel's evaluator other than the lead,
    who sees another evaluator's grade of a criterion only once they submitted their own."""
    entry = entry_of(job, file_name, vendor=vendor, missing=missing)
    if job is None or entry.review is None:
        return entry
    latest = review_in_round(store, job)
    panel = panel_of(store, job.id)
    if blind_viewer is not None:
        panel = panel.visible_to(blind_viewer, blind=True, lead=False)
    return entry.model_copy(update={"review": final_review(latest, panel)})


def evaluation_comparison(
    store: PanelStore,
    entries: list[Entry],
    rubric: Rubric,
    *,
    anonymized: bool = False,
    mandatory: MandatoryPolicy = "flag",
    withhold_ids: bool = False,
    blind_viewer: str | None = None,
) -> Comparison:
    """The comparison of an evaluation with the panel's events on every entry (the Audit sheet); with
    `withhold_ids`, the comparison's rows carry no review ids (the events are read by id first); with
    `blind_viewer`, the events as that evaluator of a blind panel may read them."""
    audit = audit_lines(store, entries, blind_viewer)
    if withhold_ids:
        entries = [entry.model_copy(update={"review_id": None}) for entry in entries]
    return build_comparison(entries, rubric, mandatory=mandatory).model_copy(
        update={"anonymized": anonymized, "audit": audit}
    )


def failed_entry(file_name: str, error: str, *, vendor: str | None = None) -> Entry:
    """A proposal that never became a job (unreadable, refused at intake)."""
    return Entry(vendor=vendor_for(file_name, None, None, vendor), file_name=file_name, error=error)
