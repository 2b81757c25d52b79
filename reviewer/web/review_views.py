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
from reviewer.page_image import Unmaskable
from reviewer.queue.blind import SeenReview, blinded_event, blinded_rounds, file_labels, review_as_seen_by
from reviewer.queue.proposal import ProposalPages, StoredFile
from reviewer.queue.results import events_visible_to, panel_of, review_of, vendor_for
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


class AnswerPages(BaseModel):
    """A clarification round's answer file, with its own pages."""

    round: int
    file_name: str
    pages: list[PageLink]


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
    answers: list[AnswerPages] = Field(default_factory=list)  # the answer files the review quotes from
    links: dict[str, str] = Field(default_factory=dict)  # quote id -> the page it is on (with its anchor)
    rounds: list[RoundView] = Field(default_factory=list)
    changes: dict[str, list[RoundChange]] = Field(default_factory=dict)  # criterion id -> its round changes
    egress: EgressLogView | None = None


def quote_id(criterion_id: str, index: int) -> str:
    """The anchor of a finding's citation on its page (the index among the finding's final citations)."""
    return f"q-{criterion_id}-{index}"


def page_path(review_id: str, number: int, page: int) -> str:
    """The web page of page `page` of round `number`'s file (1: the proposal; later: that round's answer)."""
    if number == 1:
        return f"/web/reviews/{review_id}/pages/{page}"
    return f"/web/reviews/{review_id}/rounds/{number}/pages/{page}"


def _page_count(pages: ProposalPages, seen: SeenReview, number: int) -> int:
    """How many pages round `number`'s file has (the proposal's from its own review, an answer's read again)."""
    job = seen.original or seen.job
    if number == 1:
        first = review_of(job)
        return first.document.pages if first else 0
    record = seen.record_of(number)
    document = pages.document(record) if record else None
    return len(document.pages) if isinstance(document, Document) else 0


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


def review_page(services: Services, pages: ProposalPages, review_id: str, viewer: str, lead: bool) -> ReviewPage | None:
    job = services.store.get(review_id)
    if job is None:
        return None
    seen = review_as_seen_by(services.store, services.panel, job, viewer, lead=lead, pages=pages)
    job, review = seen.job, seen.review
    failure = f"{failure_reason(job.error_code)}" if job.status is JobStatus.FAILED else None
    listed: list[PageLink] = []
    answers: list[AnswerPages] = []
    links: dict[str, str] = {}
    rounds: list[RoundView] = []
    if review is not None:
        quoted: Counter[tuple[int, int]] = Counter()
        for f in review.findings:
            for i, c in enumerate(f.citations):
                if (part := seen.part_of(c)) is None:
                    continue
                links[quote_id(f.criterion_id, i)] = page_path(review_id, *part) + (
                    f"#{quote_id(f.criterion_id, i)}" if c.verified else ""
                )
                quoted[part] += c.verified
        listed = [PageLink(number=n, quotes=quoted[(1, n)]) for n in range(1, _page_count(pages, seen, 1) + 1)]
        labels = file_labels(review_id, seen.records)
        for number in sorted({n for n, _ in quoted if n > 1}):
            record = seen.record_of(number)
            if record is None:
                continue
            count = _page_count(pages, seen, number)
            answers.append(
                AnswerPages(
                    round=number,
                    file_name=labels[number] if seen.masked else record.file_name,
                    pages=[PageLink(number=n, quotes=quoted[(number, n)]) for n in range(1, count + 1)],
                )
            )
        rounds = services.rounds.rounds(review_id, viewer=viewer, lead=lead, blind=seen.blind)
        if seen.masked:
            rounds = blinded_rounds(rounds, review_id, seen)
    return ReviewPage(
        job=job,
        vendor=vendor_for(job.file_name, job, review),
        file_name=job.file_name,
        review=review,
        grades=_rubric_grades(services.catalog, job, review),
        blind=seen.blind,
        failure=failure,
        pages=listed,
        answers=answers,
        links=links,
        rounds=rounds if len(rounds) > 1 else [],
        changes=_round_changes(rounds),
        egress=EgressLogView.of(job.id, services.store.egress_of(job.id)),
    )


class QuoteOnPage(BaseModel):
    id: str
    criterion_id: str
    title: str
    citation: Citation
    placed: bool  # highlighted in the page's text (verified, and its offsets fit the text)


class ProposalPage(BaseModel):
    job: JobRecord
    vendor: str
    round: int  # 1: the proposal; later: that round's answer
    file_name: str
    number: int
    page_count: int
    text: list[Segment] | None  # None when the text cannot be shown (see `unavailable`)
    unavailable: str | None = None
    ocr: bool = False
    image: bool = False
    no_image: str | None = None  # why the page's picture is not shown, when it is a PDF's
    masked: bool = False  # names masked in the text and blacked out in the picture (a blind panel's evaluator)
    quotes: list[QuoteOnPage] = Field(default_factory=list)

    @property
    def base(self) -> str:
        """The path of this file's pages, without the page number."""
        return page_path(self.job.id, self.round, 1)[: -len("1")]


class NoSuchPage(Exception):
    pass


BLIND_TEXT_UNREADABLE = (
    "on a blind panel, a page is shown only once its names can be masked, and its text could not be read again"
)


def _file_of(seen: SeenReview, number: int) -> StoredFile | None:
    return (seen.original or seen.job) if number == 1 else seen.record_of(number)


def picture(pages: ProposalPages, seen: SeenReview, number: int, page: int) -> bytes | Unmaskable | None:
    """Page `page` of round `number`'s file as PNG bytes; for a blind panel's evaluator with every masked name
    blacked out, or why it cannot be (Unmaskable); None when the file has no picture of that page."""
    part = _file_of(seen, number)
    if part is None:
        return None
    if not seen.masked or seen.text is None:
        return pages.image(part, page)
    if seen.text.page_text(number, page) is None:
        return Unmaskable("its text could not be read again, so the names on it cannot be found")
    hide, expected = seen.text.hidden_on(number, page)
    return pages.image(part, page, hide, expected)


def seen_for_page(
    services: Services, pages: ProposalPages, review_id: str, number: int, page: int, viewer: str, lead: bool
) -> SeenReview | None:
    """The review as this viewer sees it, when round `number`'s file has page `page`; None for an unknown
    review, NoSuchPage for a file or a page it does not have."""
    record = services.store.get(review_id)
    if record is None:
        return None
    seen = review_as_seen_by(services.store, services.panel, record, viewer, lead=lead, pages=pages)
    if seen.review is None or _file_of(seen, number) is None:
        raise NoSuchPage(page)
    if not 1 <= page <= _page_count(pages, seen, number):
        raise NoSuchPage(page)
    return seen


def proposal_page(
    services: Services,
    pages: ProposalPages,
    review_id: str,
    number: int,
    viewer: str,
    lead: bool,
    round_number: int = 1,
) -> ProposalPage | None:
    """Page `number` of the review's proposal (or of round `round_number`'s answer) with every quote the
    findings cite on it; None for an unknown review, NoSuchPage for a page it does not have. A blind panel's
    evaluator reads the masked text, with the quotes marked at their masked offsets."""
    seen = seen_for_page(services, pages, review_id, round_number, number, viewer, lead)
    if seen is None:
        return None
    review = seen.review
    assert review is not None
    part = _file_of(seen, round_number)
    assert part is not None
    document = pages.document(part)
    text: str | None = None
    page = None
    unavailable = document if isinstance(document, str) else None
    if isinstance(document, Document):
        page = next((p for p in document.pages if p.number == number), None)
        if page is None:
            unavailable = "this page has no text in the file as read again"
        else:
            text = page.text
    if seen.masked and text is not None:
        assert seen.text is not None
        text = seen.text.page_text(round_number, number)
        if text is None:
            unavailable = BLIND_TEXT_UNREADABLE
    quotes = [
        QuoteOnPage(
            id=quote_id(f.criterion_id, i),
            criterion_id=f.criterion_id,
            title=f.title,
            citation=c,
            placed=text is not None
            and c.verified
            and c.start is not None
            and c.end is not None
            and placeable(Span(id="", start=c.start, end=c.end), len(text)),
        )
        for f in review.findings
        for i, c in enumerate(f.citations)
        if seen.part_of(c) == (round_number, number)
    ]
    spans = [Span(id=q.id, start=q.citation.start, end=q.citation.end) for q in quotes if q.placed]
    image, no_image = False, None
    if isinstance(document, Document) and document.source == "pdf":
        found = picture(pages, seen, round_number, number)
        image = isinstance(found, bytes)
        no_image = str(found) if isinstance(found, Unmaskable) else None
    labels = file_labels(review_id, seen.records)
    return ProposalPage(
        job=seen.job,
        vendor=vendor_for(seen.job.file_name, seen.job, review),
        round=round_number,
        file_name=labels[round_number] if seen.masked else part.file_name,
        number=number,
        page_count=_page_count(pages, seen, round_number),
        text=segments(text, spans) if text is not None else None,
        unavailable=unavailable,
        ocr=bool(page and page.ocr),
        image=image,
        no_image=no_image,
        masked=seen.masked,
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


def audit_page(
    services: Services, pages: ProposalPages, review_id: str, page: int, viewer: str, lead: bool
) -> AuditPage | None:
    record = services.store.get(review_id)
    if record is None:
        return None
    seen = review_as_seen_by(services.store, services.panel, record, viewer, lead=lead, pages=pages)
    total = services.store.events(review_id, limit=1)[1]
    page_count = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(max(page, 1), page_count)
    events, total = services.store.events(review_id, AUDIT_PAGE_SIZE, (page - 1) * AUDIT_PAGE_SIZE)
    if seen.masked:
        visible = events_visible_to(events, panel_of(services.store, review_id), viewer)
        events = [blinded_event(record, e, seen.text) for e in visible]
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
