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
from reviewer.queue.results import panel_of, review_of
from reviewer.review import Assessment, Citation, Consensus, Grade, Review
from reviewer.rubric import RubricCatalog
from reviewer.store import FileStore, JobRecord, JobStatus, JobStore


class NotAllowed(BadInputError):
    code = "forbidden"


class AssessmentInput(BaseModel):
    criterion_id: str = Field(min_length=1, max_length=64)
    grade: Grade
    reason: str | None = Field(default=None, max_length=4000)
    note: str | None = Field(default=None, max_length=4000)
    rejected_citations: list[int] = Field(
        default_factory=list, description="indexes of the grader's citations that do not support the grade"
    )
    citations: list[QuoteInput] = Field(default_factory=list, max_length=10)


class ConsensusInput(BaseModel):
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

    def _finished(self, review_id: str) -> tuple[JobRecord, Review]:
        job = self.store.get(review_id)
        if job is None:
            raise ReviewerError(f"no review with id '{review_id}'", code="not_found")
        review = review_of(job)
        if job.status is not JobStatus.DONE or review is None:
            raise ReviewerError(
                f"the review is {job.status.value}; it can be assessed once it is done", code="not_ready"
            )
        return job, review

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
        job, review = await asyncio.to_thread(self._finished, review_id)
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
            locator = QuoteLocator(await self._read_document(job))
            citations = [locator.locate(q.page, q.quote) for q in given.citations]
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
        )

    async def set_consensus(
        self, review_id: str, criterion_id: str, lead: str, is_lead: bool, given: ConsensusInput
    ) -> Consensus:
        if not is_lead:
            raise NotAllowed("only an evaluation lead (REVIEWER_LEAD_EVALUATORS) may set consensus")
        job, review = await asyncio.to_thread(self._finished, review_id)
        self._criterion(job, review, criterion_id, given.grade)
        before = final_review(review, await asyncio.to_thread(self.panel, review_id))
        previous = next(f.grade for f in before.findings if f.criterion_id == criterion_id)
        return await asyncio.to_thread(
            self.store.set_consensus, review_id, criterion_id, lead, given.grade, given.reason.strip(), before=previous
        )

    def final(
        self, job: JobRecord, *, viewer: str | None = None, lead: bool = True, blind: bool = False
    ) -> Review | None:
        """The job's review as the panel decided it, as `viewer` may see it (None: the lead's full view)."""
        review = review_of(job)
        if review is None:
            return None
        panel = self.panel(job.id)
        if viewer is not None:
            panel = panel.visible_to(viewer, blind=blind, lead=lead)
        return final_review(review, panel)
