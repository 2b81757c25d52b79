"""What each page shows, put together from the store and the panel service (the same reads the API makes),
as plain models the templates lay out. Blind panels: an evaluator sees labels, never vendor or file names."""

from datetime import UTC, datetime

from pydantic import BaseModel

from reviewer.egress import EgressLogView
from reviewer.errors import ReviewerError
from reviewer.queue.panel import PanelService
from reviewer.queue.results import vendor_for
from reviewer.render.failures import failure_reason
from reviewer.review import Grade, Review
from reviewer.rubric import RubricCatalog
from reviewer.store import JobRecord, JobStatus, JobStore

GRADE_WORDS = {Grade.MET: "Met", Grade.PARTIAL: "Partial", Grade.MISSING: "Missing", Grade.RED_FLAG: "Red flag"}
SOURCE_WORDS = {"ai": "grader (unconfirmed)", "evaluator": "evaluator", "consensus": "lead's consensus"}


def when(ts: float | datetime) -> str:
    moment = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class ReviewPage(BaseModel):
    job: JobRecord
    vendor: str
    file_name: str
    review: Review | None
    grades: list[Grade]
    blind: bool
    failure: str | None = None
    egress: EgressLogView | None = None


def blinded(job: JobRecord, review: Review | None) -> tuple[JobRecord, Review | None]:
    """A blind panel evaluator's view: a label instead of the vendor, the file name and the file's hash
    (the same label GET /v1/reviews/{id} shows)."""
    label = f"Vendor {job.id[:6]}"
    job = job.model_copy(update={"vendor_name": label, "file_name": f"{label}.pdf", "sha256": "hidden"})
    if review is not None:
        document = review.document.model_copy(update={"file_name": job.file_name, "sha256": "hidden"})
        review = review.model_copy(update={"vendor_name": label, "document": document})
    return job, review


def review_page(
    store: JobStore, panel: PanelService, catalog: RubricCatalog, review_id: str, viewer: str, lead: bool
) -> ReviewPage | None:
    job = store.get(review_id)
    if job is None:
        return None
    blind = store.in_blind_batch(job.id)
    review = panel.final(job, viewer=viewer, lead=lead, blind=blind)
    if blind and not lead:
        job, review = blinded(job, review)
    grades = list(Grade)
    if review is not None:
        try:
            rubric = catalog.load(job.rubric_name)
            if rubric.id == review.rubric.id:
                grades = list(rubric.grades)
        except ReviewerError:
            pass
    failure = f"{failure_reason(job.error_code)}" if job.status is JobStatus.FAILED else None
    return ReviewPage(
        job=job,
        vendor=vendor_for(job.file_name, job, review),
        file_name=job.file_name,
        review=review,
        grades=grades,
        blind=blind,
        failure=failure,
        egress=EgressLogView.of(job.id, store.egress_of(job.id)),
    )
