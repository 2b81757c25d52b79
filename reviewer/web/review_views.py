"""What the review's pages show (the review beside its proposal, one page of the proposal with its quotes
marked, the audit trail), put together from the store and the core services as plain models the templates
lay out. A blind panel's evaluator sees labels, never the vendor's or the files' names."""

import json
from collections import Counter
from datetime import datetime

from pydantic import BaseModel, Field

from reviewer.documents import Document
from reviewer.egress import EgressLogView
from reviewer.errors import ReviewerError
from reviewer.highlight import Segment, Span, placeable, segments
from reviewer.queue.blind import blinded_event, blinded_rounds, review_as_seen_by
from reviewer.queue.proposal import ProposalPages
from reviewer.queue.results import review_of, vendor_for
from reviewer.queue.rounds import RoundView
from reviewer.queue.services import Services
from reviewer.render.failures import failure_reason
from reviewer.review import Citation, Grade, Review
from reviewer.rounds import CriterionChange
from reviewer.rubric import RubricCatalog
from reviewer.store import JobRecord, JobStatus
from reviewer.web.views import GRADE_WORDS


class PageLink(BaseModel):
    number: int
    quotes: int  # verified quotes on the page


class RoundChange(BaseModel):
    number: int  # the round the change happened in
    file_name: str
    change: CriterionChange


class ReviewPage(BaseModel):
    job: JobRecord
    vendor: str
    file_name: str
    review: Review | None
    grades: list[Grade]
    blind: bool
    failure: str | None = None
    pages: list[PageLink] = Field(default_factory=list)
    rounds: list[RoundView] = Field(default_factory=list)
    changes: dict[str, list[RoundChange]] = Field(default_factory=dict)  # criterion id -> its round changes
    egress: EgressLogView | None = None


def quote_id(criterion_id: str, index: int) -> str:
    """The anchor of a finding's citation on its page (the index among the finding's final citations)."""
    return f"q-{criterion_id}-{index}"


def on_the_proposal(citation: Citation) -> bool:
    """A quote of the proposal itself (not of a clarification round's answer)."""
    return citation.document is None


def _rubric_grades(catalog: RubricCatalog, job: JobRecord, review: Review | None) -> list[Grade]:
    if review is not None:
        try:
            rubric = catalog.load(job.rubric_name)
            if rubric.id == review.rubric.id:
                return list(rubric.grades)
        except ReviewerError:
            pass
    return list(Grade)


def _round_changes(rounds: list[RoundView]) -> dict[str, list[RoundChange]]:
    changes: dict[str, list[RoundChange]] = {}
    for view in rounds:
        for change in view.changes:
            if change.changed:
                found = RoundChange(number=view.number, file_name=view.file_name, change=change)
                changes.setdefault(change.criterion_id, []).append(found)
    return changes


def review_page(services: Services, review_id: str, viewer: str, lead: bool) -> ReviewPage | None:
    job = services.store.get(review_id)
    if job is None:
        return None
    seen = review_as_seen_by(services.store, services.panel, job, viewer, lead=lead)
    job, review = seen.job, seen.review
    failure = f"{failure_reason(job.error_code)}" if job.status is JobStatus.FAILED else None
    pages: list[PageLink] = []
    rounds: list[RoundView] = []
    if review is not None:
        quoted = Counter(c.page for f in review.findings for c in f.citations if c.verified and on_the_proposal(c))
        pages = [PageLink(number=n, quotes=quoted.get(n, 0)) for n in range(1, review.document.pages + 1)]
        rounds = services.rounds.rounds(review_id, viewer=viewer, lead=lead, blind=seen.blind)
        if seen.masked:
            rounds = blinded_rounds(rounds, review_id)
    return ReviewPage(
        job=job,
        vendor=vendor_for(job.file_name, job, review),
        file_name=job.file_name,
        review=review,
        grades=_rubric_grades(services.catalog, job, review),
        blind=seen.blind,
        failure=failure,
        pages=pages,
        rounds=rounds if len(rounds) > 1 else [],
        changes=_round_changes(rounds),
        egress=EgressLogView.of(job.id, services.store.egress_of(job.id)),
    )


def page_count(job: JobRecord) -> int:
    """How many pages the reviewed proposal has (0 until its review is done)."""
    review = review_of(job)
    return review.document.pages if review else 0


class QuoteOnPage(BaseModel):
    id: str
    criterion_id: str
    title: str
    citation: Citation
    placed: bool  # highlighted in the page's text (verified, and its offsets fit the text)


class ProposalPage(BaseModel):
    job: JobRecord
    vendor: str
    number: int
    page_count: int
    text: list[Segment] | None  # None when the text cannot be shown (see `unavailable`)
    unavailable: str | None = None
    ocr: bool = False
    image: bool = False
    quotes: list[QuoteOnPage] = Field(default_factory=list)


class NoSuchPage(Exception):
    pass


def proposal_page(
    services: Services, pages: ProposalPages, review_id: str, number: int, viewer: str, lead: bool
) -> ProposalPage | None:
    """Page `number` of the review's proposal with every quote the findings cite on it; None for an unknown
    review, NoSuchPage for a page it does not have."""
    record = services.store.get(review_id)
    if record is None:
        return None
    seen = review_as_seen_by(services.store, services.panel, record, viewer, lead=lead)
    review = seen.review
    if review is None or not 1 <= number <= review.document.pages:
        raise NoSuchPage(number)
    document = pages.document(record)
    page = None
    unavailable = document if isinstance(document, str) else None
    if isinstance(document, Document):
        page = next((p for p in document.pages if p.number == number), None)
        if page is None:
            unavailable = "this page has no text in the proposal as read again"
    text = page.text if page else ""
    quotes = [
        QuoteOnPage(
            id=quote_id(f.criterion_id, i),
            criterion_id=f.criterion_id,
            title=f.title,
            citation=c,
            placed=page is not None
            and c.verified
            and c.start is not None
            and c.end is not None
            and placeable(Span(id="", start=c.start, end=c.end), len(text)),
        )
        for f in review.findings
        for i, c in enumerate(f.citations)
        if c.page == number and on_the_proposal(c)
    ]
    spans = [Span(id=q.id, start=q.citation.start, end=q.citation.end) for q in quotes if q.placed]
    image = review.document.source == "pdf" and pages.image(record, number) is not None
    return ProposalPage(
        job=seen.job,
        vendor=vendor_for(seen.job.file_name, seen.job, review),
        number=number,
        page_count=review.document.pages,
        text=segments(text, spans) if page is not None else None,
        unavailable=unavailable,
        ocr=bool(page and page.ocr),
        image=image,
        quotes=quotes,
    )


ACTION_WORDS = {
    "review_created": "Review created",
    "ai_graded": "Graded by the AI",
    "assessed": "Assessment recorded",
    "consensus_set": "Consensus set",
    "round_opened": "Clarification round opened",
    "round_finished": "Clarification round finished",
    "report_exported": "Report exported",
    "questions_exported": "Questions exported",
    "review_deleted": "Review deleted",
}
AUDIT_PAGE_SIZE = 50
MAX_VALUE_CHARS = 300


class AuditChange(BaseModel):
    field: str
    before: str | None  # None: the field is new with this event
    after: str | None  # None: the field is gone with this event


class AuditRow(BaseModel):
    at: datetime
    actor: str
    action: str
    criterion_id: str | None
    changes: list[AuditChange]


class AuditPage(BaseModel):
    job: JobRecord
    vendor: str
    rows: list[AuditRow]
    total: int
    page: int
    page_count: int
    first: int  # 1-based position of the first row shown


def _shown(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    if isinstance(value, str) and value in {g.value for g in Grade}:
        text = GRADE_WORDS[Grade(value)]
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def audit_changes(before: object, after: object) -> list[AuditChange]:
    """Before -> after, field by field (events record dicts; anything else is one field, "value")."""
    before = before if isinstance(before, dict) else ({} if before is None else {"value": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"value": after})
    fields = [*after, *(k for k in before if k not in after)]
    return [
        AuditChange(field=k.replace("_", " "), before=_shown(before.get(k)), after=_shown(after.get(k)))
        for k in fields
        if before.get(k) is not None or after.get(k) is not None
    ]


def audit_page(services: Services, review_id: str, page: int, viewer: str, lead: bool) -> AuditPage | None:
    record = services.store.get(review_id)
    if record is None:
        return None
    seen = review_as_seen_by(services.store, services.panel, record, viewer, lead=lead)
    total = services.store.events(review_id, limit=1)[1]
    page_count = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(max(page, 1), page_count)
    events, total = services.store.events(review_id, AUDIT_PAGE_SIZE, (page - 1) * AUDIT_PAGE_SIZE)
    if seen.masked:
        events = [blinded_event(record, e) for e in events]
    rows = [
        AuditRow(
            at=e.at,
            actor=e.actor,
            action=ACTION_WORDS.get(e.action, e.action.replace("_", " ")),
            criterion_id=e.criterion_id,
            changes=audit_changes(e.before, e.after),
        )
        for e in events
    ]
    return AuditPage(
        job=seen.job,
        vendor=vendor_for(seen.job.file_name, seen.job, seen.review),
        rows=rows,
        total=total,
        page=page,
        page_count=page_count,
        first=(page - 1) * AUDIT_PAGE_SIZE + 1,
    )
