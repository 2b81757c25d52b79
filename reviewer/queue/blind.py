"""What an evaluator of a blind panel sees of a review: a label instead of the vendor, the file's name and
its hash (the key to the names stays with the lead), and the vendor's own words with every name and
identifying string masked the way blind model input masks them (reviewer/masking.py: "[VENDOR]",
"[PERSON-1]", ...): the pages' text, the quotes (their offsets moved to the masked text, so the marks land
on the same words), the rationales and questions. Every shell that shows a review goes through here."""

import re
from dataclasses import dataclass, field

from reviewer.comparison import name_variants
from reviewer.documents import Document
from reviewer.masking import BLIND, LABELS, MaskedDocument, MaskKind, mask_document
from reviewer.page_image import hiding_pattern
from reviewer.queue.panel import PanelService
from reviewer.queue.proposal import ProposalPages
from reviewer.queue.results import review_of
from reviewer.queue.rounds import RoundView
from reviewer.review import Citation, Finding, Review
from reviewer.rounds import combine_documents
from reviewer.store import AuditEvent, JobRecord, JobStore, RoundRecord, RoundStatus

HIDDEN_KEYS = ("file_name", "sha256", "vendor_name")


def blind_label(review_id: str) -> str:
    return f"Vendor {review_id[:6]}"


def _file_label(review_id: str, number: int) -> str:
    label = blind_label(review_id)
    return f"{label}.pdf" if number == 1 else f"{label} answer {number}.pdf"


def file_labels(review_id: str, records: list[RoundRecord]) -> dict[int, str]:
    """Round number -> the label a blind panel's evaluator sees for that round's file (1: the proposal)."""
    return {1: _file_label(review_id, 1), **{r.number: _file_label(review_id, r.number) for r in records}}


def cited_part(citation: Citation, job: JobRecord, records: list[RoundRecord]) -> tuple[int, int] | None:
    """Which file a citation quotes, as (round number: 1 for the proposal, that file's own page); None for a
    file the review does not have. Names are the files' real names (before any blind label)."""
    if citation.document is None or citation.document == job.file_name:
        return 1, citation.document_page or citation.page
    record = next((r for r in records if r.file_name == citation.document), None)
    if record is None:
        return None
    return record.number, citation.document_page or citation.page


@dataclass
class BlindText:
    """The vendor's files (the proposal, then each done round's answer) masked as one document, so a name
    has the same placeholder in every file, and `prose` masks the same words anywhere else."""

    masked: MaskedDocument | None  # None when the files could not be read again: prose is still masked
    offsets: dict[int, int] = field(default_factory=dict)  # round number -> pages of the files before it
    pattern: re.Pattern[str] | None = None
    placeholders: dict[str, str] = field(default_factory=dict)  # a hidden form, casefolded -> its placeholder
    unreadable: dict[int, str] = field(default_factory=dict)  # round number -> why its file cannot be shown

    @classmethod
    def of(cls, parts: dict[int, Document | str], vendor_names: list[str]) -> "BlindText":
        """`parts`: round number -> the file as read again, or why it could not be."""
        readable = {n: d for n, d in sorted(parts.items()) if isinstance(d, Document)}
        unreadable = {n: d for n, d in parts.items() if isinstance(d, str)}
        vendors = [v for name in vendor_names if name for v in name_variants(name)]
        masked, offsets, forms = None, {}, {}
        vendor = f"[{LABELS[MaskKind.VENDOR]}]"
        if readable:
            documents = list(readable.values())
            combined = combine_documents(documents[0], documents[1:]).document
            # named as the proposal: the vendor is found from its file's name too, as when it was graded
            combined = combined.model_copy(update={"file_name": documents[0].file_name})
            masked = mask_document(combined, BLIND, vendor_names=vendors)
            seen = 0
            for number, document in readable.items():
                offsets[number] = seen
                seen += len(document.pages)
            for page in combined.pages:
                for r in masked.replacements.get(page.number, []):
                    forms.setdefault(_form(page.text[r.start : r.end]), r.placeholder)
                    if r.kind is MaskKind.VENDOR:
                        vendor = r.placeholder
        for name in vendors:
            forms.setdefault(_form(name), vendor)
        return cls(masked, offsets, hiding_pattern(list(forms)), forms, unreadable)

    def _page(self, number: int, page: int) -> int | None:
        if self.masked is None or number not in self.offsets:
            return None
        combined = self.offsets[number] + page
        return combined if combined in self.masked.replacements else None

    def page_text(self, number: int, page: int) -> str | None:
        """Page `page` of round `number`'s file, masked; None when it cannot be read."""
        at = self._page(number, page)
        return None if at is None else self.masked.document.pages[at - 1].text

    def hidden_on(self, number: int, page: int) -> tuple[tuple[str, ...], int]:
        """What to black out in the page's picture (every hidden form) and how many occurrences its text has."""
        at = self._page(number, page)
        counted = len(self.masked.replacements.get(at, [])) if at is not None else 0
        return tuple(sorted(self.placeholders)), counted

    def prose(self, text: str | None) -> str | None:
        if not text or self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.placeholders.get(_form(m.group()), m.group()), text)

    def citation(self, citation: Citation, part: tuple[int, int] | None) -> Citation:
        """The quote in the masked words; a placed quote takes the masked page's text between its moved offsets."""
        at = self._page(*part) if part else None
        if at is not None and citation.verified and citation.start is not None and citation.end is not None:
            text = self.masked.original.pages[at - 1].text
            if 0 <= citation.start < citation.end <= len(text):
                start, end = self.masked.to_masked_span(at, citation.start, citation.end)
                quote = self.masked.document.pages[at - 1].text[start:end]
                return citation.model_copy(update={"quote": quote, "start": start, "end": end})
        return citation.model_copy(update={"quote": self.prose(citation.quote), "note": self.prose(citation.note)})

    def finding(self, finding: Finding, job: JobRecord, records: list[RoundRecord]) -> Finding:
        def cite(c: Citation) -> Citation:
            return self.citation(c, cited_part(c, job, records))

        assessments = [
            a.model_copy(
                update={
                    "citations": [cite(c) for c in a.citations],
                    "reason": self.prose(a.reason),
                    "note": self.prose(a.note),
                }
            )
            for a in finding.assessments
        ]
        consensus = finding.consensus
        if consensus is not None:
            consensus = consensus.model_copy(update={"reason": self.prose(consensus.reason)})
        return finding.model_copy(
            update={
                "rationale": self.prose(finding.rationale) or "",
                "details": self.prose(finding.details),
                "clarification_question": self.prose(finding.clarification_question),
                "error": self.prose(finding.error),
                "citations": [cite(c) for c in finding.citations],
                "assessments": assessments,
                "consensus": consensus,
            }
        )

    def review(self, review: Review, job: JobRecord, records: list[RoundRecord]) -> Review:
        warnings = [w.model_copy(update={"message": self.prose(w.message)}) for w in review.warnings]
        findings = [self.finding(f, job, records) for f in review.findings]
        return review.model_copy(update={"findings": findings, "warnings": warnings})


def _form(text: str) -> str:
    return " ".join(text.split()).casefold()


def blind_text(pages: ProposalPages, job: JobRecord, records: list[RoundRecord]) -> BlindText:
    """The masking of a review's files, read again from the file store (ProposalPages caches them)."""
    parts: dict[int, Document | str] = {1: pages.document(job)}
    for record in records:
        if record.status is RoundStatus.DONE:
            parts[record.number] = pages.document(record)
    review = review_of(job)
    return BlindText.of(parts, [job.vendor_name or "", (review.vendor_name if review else None) or ""])


def _blind_citation(citation: Citation, names: dict[str, str]) -> Citation:
    if citation.document is None:
        return citation
    return citation.model_copy(update={"document": names.get(citation.document, "answer")})


def blinded(
    job: JobRecord,
    review: Review | None = None,
    records: list[RoundRecord] | None = None,
    text: BlindText | None = None,
) -> tuple[JobRecord, Review | None]:
    """The job and its review with the vendor, the file name and the file's hash replaced by the label; a
    later round's review (`records`: the review's rounds) also names every file it quotes by a label; with
    `text`, the vendor's words in the review are masked too."""
    records = records or []
    label = blind_label(job.id)
    names = {job.file_name: _file_label(job.id, 1), **{r.file_name: _file_label(job.id, r.number) for r in records}}
    hidden = {"vendor_name": label, "file_name": names[job.file_name], "sha256": "hidden"}
    blinded_job = job.model_copy(update=hidden)
    if review is not None:
        if text is not None:
            review = text.review(review, job, records)
        used = [r for r in records if r.number <= review.round and r.status is RoundStatus.DONE]
        shown = " + ".join([names[job.file_name], *(names[r.file_name] for r in used)])
        document = review.document.model_copy(update={"file_name": shown, "sha256": "hidden"})
        findings = [
            f.model_copy(update={"citations": [_blind_citation(c, names) for c in f.citations]})
            for f in review.findings
        ]
        review = review.model_copy(update={"vendor_name": label, "document": document, "findings": findings})
    return blinded_job, review


def blinded_event(job: JobRecord, event: AuditEvent, text: "BlindText | None" = None) -> AuditEvent:
    """An audit event without the names a blind panel hides (e.g. review_created's file name); with `text`,
    the vendor's words in it (an assessment's quotes) masked as in the review."""
    hidden = blinded(job)[0]

    def words(value: object) -> object:
        if isinstance(value, str):
            return text.prose(value) if text is not None else value
        if isinstance(value, list):
            return [words(v) for v in value]
        if isinstance(value, dict):
            return {k: words(v) for k, v in value.items()}
        return value

    def mask(value: object) -> object:
        if not isinstance(value, dict):
            return words(value)
        return {k: (getattr(hidden, k) if k in HIDDEN_KEYS else words(v)) for k, v in value.items()}

    return event.model_copy(update={"before": mask(event.before), "after": mask(event.after)})


@dataclass
class SeenReview:
    job: JobRecord
    review: Review | None  # the panel's final grades, as this viewer may see them; None until it is done
    blind: bool  # the review belongs to a blind panel
    masked: bool  # names are hidden from this viewer (a blind panel's evaluator other than the lead)
    original: JobRecord | None = None  # the job as stored (names included), for looking its files up
    records: list[RoundRecord] = field(default_factory=list)  # the review's rounds, as stored
    text: BlindText | None = None  # how the vendor's words are masked for this viewer (when `masked`)

    def part_of(self, citation: Citation) -> tuple[int, int] | None:
        """Which file a citation of `review` quotes, as (round number: 1 for the proposal, that file's own
        page), whether its file is named by its name or, for this viewer, by its label."""
        job = self.original or self.job
        if not self.masked:
            return cited_part(citation, job, self.records)
        if citation.document is None:
            return 1, citation.page
        numbers = {label: n for n, label in file_labels(job.id, self.records).items()}
        number = numbers.get(citation.document)
        return None if number is None else (number, citation.document_page or citation.page)

    def record_of(self, number: int) -> RoundRecord | None:
        """Round `number`'s record (2 or later), when that round is done."""
        return next((r for r in self.records if r.number == number and r.status is RoundStatus.DONE), None)


def review_as_seen_by(
    store: JobStore, panel: PanelService, job: JobRecord, viewer: str, *, lead: bool, pages: ProposalPages
) -> SeenReview:
    """A review as one evaluator may see it: on a blind panel, other evaluators' grades only once they
    submitted their own, and labels instead of names, the vendor's words masked, unless they lead."""
    blind = store.in_blind_batch(job.id)
    review = panel.final(job, viewer=viewer, lead=lead, blind=blind)
    masked = blind and not lead
    records = store.rounds_of(job.id)
    original, text = job, None
    if masked:
        text = blind_text(pages, job, records)
        job, review = blinded(job, review, records, text)
    return SeenReview(job=job, review=review, blind=blind, masked=masked, original=original, records=records, text=text)


def blinded_rounds(views: list[RoundView], review_id: str, seen: SeenReview | None = None) -> list[RoundView]:
    """Rounds as a blind panel's evaluator sees them: every file and the vendor named by a label; with the
    review as this evaluator sees it (`seen`), the vendor's words masked as in the review."""
    names = {v.file_name: _file_label(review_id, v.number) for v in views}
    parts = list(names.values())
    text = seen.text if seen is not None else None
    job = seen.original if seen is not None else None
    records = seen.records if seen is not None else []

    def relabel(citation: Citation) -> Citation:
        if text is not None and job is not None:
            citation = text.citation(citation, cited_part(citation, job, records))
        return _blind_citation(citation, names)

    labelled = []
    for view in views:
        changes = [c.model_copy(update={"closed_by": [relabel(q) for q in c.closed_by]}) for c in view.changes]
        review = view.review
        if review is not None:
            if text is not None and job is not None:
                review = text.review(review, job, records)
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
