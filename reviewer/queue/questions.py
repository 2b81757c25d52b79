"""A review's open clarification questions exported as a document for its vendor, for every shell: the
latest done round's final grades as the exporting evaluator may see them (a blind panel's evaluator gets
the vendor's label), the vendor named as comparisons name it, and a `questions_exported` event."""

import re
import unicodedata
from datetime import date

from pydantic import BaseModel

from reviewer.errors import ReviewerError
from reviewer.queue.blind import review_as_seen_by
from reviewer.queue.panel import PanelService
from reviewer.queue.proposal import ProposalPages
from reviewer.queue.results import vendor_for
from reviewer.render.questions import MEDIA_TYPES, QuestionFormat, question_set_for, render_questions
from reviewer.store import JobRecord, JobStatus, JobStore

MAX_STEM = 60


class QuestionsDocument(BaseModel):
    content: bytes
    media_type: str
    file_name: str  # ASCII, safe in a Content-Disposition header and as a file name
    round: int


def _stem(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_text).strip("-")[:MAX_STEM].strip("-")
    return stem or "vendor"


def export_questions(
    store: JobStore,
    panel: PanelService,
    pages: ProposalPages,
    job: JobRecord,
    actor: str,
    *,
    lead: bool,
    format: QuestionFormat,
    issued_on: date,
) -> QuestionsDocument:
    """The questions of `job` as `actor` may see them (on a blind panel, an evaluator's with the vendor's
    words masked: `pages` reads the reviewed files), rendered in `format`; records the export in the audit
    trail. Raises not_ready until the review is done."""
    if job.status is not JobStatus.DONE or not job.result:
        raise ReviewerError(f"the review is {job.status.value}; questions exist once it is done", code="not_ready")
    seen = review_as_seen_by(store, panel, job, actor, lead=lead, pages=pages)
    review = seen.review
    vendor = vendor_for(seen.job.file_name, seen.job, review)
    sets = [question_set_for(review, vendor, issued_on=issued_on, round=review.round)]
    content = render_questions(sets, format)
    store.record_event(job.id, actor, "questions_exported", after={"format": format, "round": review.round})
    return QuestionsDocument(
        content=content,
        media_type=MEDIA_TYPES[format],
        file_name=f"questions-{_stem(vendor)}-round-{review.round}.{format}",
        round=review.round,
    )
