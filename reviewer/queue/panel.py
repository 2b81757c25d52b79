"""The one place a person's judgement of a review is checked and recorded (API, CLI and Slack alike), and
where the panel's view of a review is put together: final grades, blind-panel visibility, vendor labels."""

import asyncio
from collections.abc import Awaitable, Callable

from pydantic import BaseModel, Field

from reviewer.assessment import Panel, QuoteInput, ReasonRequired, check_reason, final_review
from reviewer.citations import QuoteLocator
from reviewer.config import Settings
from reviewer.documents import Document, read_pdf
from reviewer.errors import BadInputError, ReviewerError
from reviewer.queue.results import panel_of, review_in_round, review_of
from reviewer.queue.rounds import read_round_document
from reviewer.review import Assessment, Citation, Consensus, Grade, Review
from reviewer.rounds import attribute_citation
from reviewer.rubric import RubricCatalog
from reviewer.store import FileStore, JobRecord, JobStatus, JobStore


class NotAllowed(BadInputError):
    code = "forbidden"


ROUND_FIELD = Field(
    default=None, ge=1, le=10_000, description="the clarification round assessed (default: the latest done round)"
)


class AssessmentInput(BaseModel):
    criterion_id: str = Field(min_length=1, max_length=64)
    round: int | None = ROUND_FIELD
    grade: Grade
    reason: str | None = Field(default=None, max_length=4000)
    note: str | None = Field(default=None, max_length=4000)
    rejected_citations: list[int] = Field(
        default_factory=list, description="indexes of the grader's citations that do not support the grade"
    )
    citations: list[QuoteInput] = Field(default_factory=list, max_length=10)


class ConsensusInput(BaseModel):
    round: int | None = ROUND_FIELD
    grade: Grade
    reason: str = Field(min_length=1, max_length=4000)


DocumentReader = Callable[[JobRecord], Awaitable[Document]]


class PanelService:
    def __init__(
        self,
        store: JobStore,
        files: FileStore,
        catalog: RubricCatalog,
        settings: Settings,
        read_document: DocumentReader | None = None,
    ) -> None:
        self.store, self.files, self.catalog, self.settings = store, files, catalog, settings
        self._read_document = read_document or self._read_stored_pdf

    async def _read_stored_pdf(self, job: JobRecord) -> Document:
        data = await asyncio.to_thread(self.files.get, job.sha256)
        return await asyncio.to_thread(read_pdf, data, job.file_name, limits=self.settings.ingest)

    def _finished(self, review_id: str, round_number: int | None = None) -> tuple[JobRecord, Review]:
        """The job and the grader's review of the round asked for (None: the latest done round)."""
        job = self.store.get(review_id)
        if job is None:
            raise ReviewerError(f"no review with id '{review_id}'", code="not_found")
        if job.status is not JobStatus.DONE or review_of(job) is None:
            raise ReviewerError(
                f"the review is {job.status.value}; it can be assessed once it is done", code="not_ready"
            )
        return job, review_in_round(self.store, job, round_number)

    async def _locator(self, job: JobRecord, round_number: int) -> Callable[[QuoteInput], Citation]:
        """Finds a person's quote in what the round was graded on, named by file and page from round 2 on."""
        if round_number == 1:
            locator = QuoteLocator(await self._read_document(job))
            return lambda q: locator.locate(q.page, q.quote)
        records = await asyncio.to_thread(self.store.rounds_of, job.id)
        combined = await read_round_document(self.files, self.settings, job, records, round_number)
        locator = QuoteLocator(combined.document)
        return lambda q: attribute_citation(locator.locate(q.page, q.quote), combined)

    def panel(self, review_id: str) -> Panel:
        return panel_of(self.store, review_id)

    def _criterion(self, job: JobRecord, review: Review, criterion_id: str, grade: Grade):
        finding = next((f for f in review.findings if f.criterion_id == criterion_id), None)
        if finding is None:
            known = ", ".join(f.criterion_id for f in review.findings)
            raise BadInputError(
                f"unknown criterion '{criterion_id}' (this review has: {known})", code="unknown_criterion"
            )
        try:
            rubric = self.catalog.load(job.rubric_name)
        except ReviewerError:
            rubric = None
        if rubric is not None and rubric.id == review.rubric.id and not rubric.allows(grade):
            used = ", ".join(g.value for g in rubric.grades)
            raise BadInputError(f"the rubric does not use the grade {grade.value} (it uses: {used})", code="bad_grade")
        return finding

    async def assess(self, review_id: str, evaluator: str, given: AssessmentInput) -> Assessment:
        """Record an assessment of the round `given.round` (default: the latest done round), on that
        round's grades; `given.citations` pages are the round's combined pages (round 1: the proposal's)."""
        job, review = await asyncio.to_thread(self._finished, review_id, given.round)
        finding = self._criterion(job, review, given.criterion_id, given.grade)
        try:
            check_reason(finding.grade, given.grade, given.reason)
        except ReasonRequired as exc:
            raise BadInputError(str(exc), code="reason_required") from None
        bad = [i for i in given.rejected_citations if not 0 <= i < len(finding.citations)]
        if bad:
            raise BadInputError(
                f"no citation {bad[0]} on {given.criterion_id} (it has {len(finding.citations)})", code="bad_citation"
            )
        citations: list[Citation] = []
        if given.citations:
            locate = await self._locator(job, review.round)
            citations = [locate(q) for q in given.citations]
        return await asyncio.to_thread(
            self.store.add_assessment,
            review_id,
            given.criterion_id,
            evaluator,
            given.grade,
            reason=(given.reason or "").strip() or None,
            note=(given.note or "").strip() or None,
            rejected_citations=sorted(set(given.rejected_citations)),
            citations=citations,
            before=finding.grade,
            round_number=review.round,
        )

    async def set_consensus(
        self, review_id: str, criterion_id: str, lead: str, is_lead: bool, given: ConsensusInput
    ) -> Consensus:
        if not is_lead:
            raise NotAllowed("only an evaluation lead (REVIEWER_LEAD_EVALUATORS) may set consensus")
        job, review = await asyncio.to_thread(self._finished, review_id, given.round)
        self._criterion(job, review, criterion_id, given.grade)
        before = final_review(review, await asyncio.to_thread(self.panel, review_id))
        previous = next(f.grade for f in before.findings if f.criterion_id == criterion_id)
        return await asyncio.to_thread(
            self.store.set_consensus,
            review_id,
            criterion_id,
            lead,
            given.grade,
            given.reason.strip(),
            before=previous,
            round_number=review.round,
        )

    def final(
        self,
        job: JobRecord,
        *,
        viewer: str | None = None,
        lead: bool = True,
        blind: bool = False,
        round: int | None = None,
    ) -> Review | None:
        """The job's review as the panel decided it, as `viewer` may see it (None: the lead's full view):
        round `round`'s grades (None: the latest done round; `review.round` says which). Raises
        BadInputError for a round that does not exist or is not done."""
        if review_of(job) is None:
            return None
        review = review_in_round(self.store, job, round)
        panel = self.panel(job.id)
        if viewer is not None:
            panel = panel.visible_to(viewer, blind=blind, lead=lead)
        return final_review(review, panel)
