"""The core: (Document, Rubric, backend) -> Review. Every backend's answer goes through the same
verification, evidence policy and scoring here; shells call this and render."""

import asyncio
from datetime import UTC, datetime

from reviewer.citations import QuoteLocator
from reviewer.documents import Document
from reviewer.grading.base import GradingBackend, RawFinding, RawGrading
from reviewer.injection import find_injection_passages
from reviewer.masking import MaskedDocument, MaskingPolicy, model_input
from reviewer.notices import ReviewWarning
from reviewer.passages import Passage, split_passages
from reviewer.review import (
    EVIDENCE_REQUIRED,
    Citation,
    DocumentInfo,
    Finding,
    FindingFlag,
    Grade,
    Review,
    RubricInfo,
    finding_points,
    overall_score,
    verdict_for,
)
from reviewer.rubric import Criterion, Rubric

INJECTION_NOTE = "quotes text that tries to instruct the reviewer; not accepted as evidence"


async def review_document(
    document: Document, rubric: Rubric, backend: GradingBackend, *, masking: MaskingPolicy | None = None
) -> Review:
    """`masking`: what to hide from the backend; by default personal data, for backends that send it out."""
    sent = await asyncio.to_thread(masked_input, document, rubric, backend, masking)
    raw = await backend.grade(sent.document if sent else document, rubric)
    # Verification is CPU work: off the event loop, so a server keeps answering while it runs.
    return await asyncio.to_thread(
        assemble_review, document, rubric, raw, backend=backend.name, offline=backend.offline, masked=sent
    )


def masked_input(
    document: Document, rubric: Rubric, backend: GradingBackend, masking: MaskingPolicy | None = None
) -> MaskedDocument | None:
    """The document as the backend may see it (None: as it is). A rubric's `blind: true` makes it blind."""
    policy = masking or MaskingPolicy()
    if rubric.blind and not policy.blind:
        policy = policy.model_copy(update={"blind": True})
    return model_input(document, policy, offline=backend.offline)


def _overlaps(citation: Citation, passages: list[Passage]) -> bool:
    return citation.verified and any(
        p.page == citation.page and p.start < (citation.end or 0) and (citation.start or 0) < p.end for p in passages
    )


def build_finding(criterion: Criterion, raw: RawFinding, locator: QuoteLocator, injections: list[Passage]) -> Finding:
    citations = []
    for rc in raw.citations:
        citation = locator.locate(rc.page, rc.quote)
        if _overlaps(citation, injections):
            citation = citation.model_copy(update={"verified": False, "note": INJECTION_NOTE})
        citations.append(citation)
    flags: list[FindingFlag] = []
    if any(not c.verified for c in citations):
        flags.append(FindingFlag.UNVERIFIED_QUOTE)
    if any(c.cited_page is not None for c in citations):
        flags.append(FindingFlag.PAGE_CORRECTED)
    if raw.grade in EVIDENCE_REQUIRED and not any(c.verified for c in citations):
        flags.append(FindingFlag.UNSUPPORTED)
    question = (raw.clarification_question or "").strip() or None
    if question is None and (raw.grade is not Grade.MET or FindingFlag.UNSUPPORTED in flags):
        question = criterion.default_question
    return Finding(
        criterion_id=criterion.id,
        title=criterion.title,
        kind=criterion.kind.value,
        weight=criterion.weight,
        grade=raw.grade,
        score=finding_points(raw.grade, flags),
        rationale=raw.rationale.strip(),
        citations=citations,
        clarification_question=question,
        flags=flags,
    )


def _error_finding(criterion: Criterion, reason: str) -> Finding:
    return Finding(
        criterion_id=criterion.id,
        title=criterion.title,
        kind=criterion.kind.value,
        weight=criterion.weight,
        grade=None,
        score=None,
        flags=[FindingFlag.GRADING_ERROR],
        error=reason,
    )


def _reported_passages(raw: RawGrading, locator: QuoteLocator, passages: list[Passage]) -> list[Passage]:
    """What the model itself reported as trying to instruct it, where the quote is found in the document:
    the quoted span and every passage it touches, treated like the passages detected here."""
    reported: list[Passage] = []
    for report in raw.injection_reports:
        located = locator.locate(report.page, report.quote)
        if not located.verified:
            continue
        span = Passage(page=located.page, start=located.start or 0, end=located.end or 0, text=report.quote)
        reported.append(span)
        reported += [p for p in passages if p.page == span.page and p.start < span.end and span.start < p.end]
    return reported


def _injection_warnings(injections: list[Passage]) -> list[ReviewWarning]:
    pages = sorted({p.page for p in injections})
    if not pages:
        return []
    listed = ", ".join(str(p) for p in pages)
    return [
        ReviewWarning(
            code="prompt_injection",
            message=f"text on page(s) {listed} tries to instruct the reviewer; it was treated as data, "
            "not followed, and not accepted as evidence",
            pages=pages,
        )
    ]


def assemble_review(
    document: Document,
    rubric: Rubric,
    raw: RawGrading,
    *,
    backend: str,
    offline: bool,
    masked: MaskedDocument | None = None,
) -> Review:
    """`masked`: what the backend was sent instead of `document`; its answer is mapped back to the original
    words first, and then verified against the original pages like any other."""
    if masked is not None:
        raw = masked.restore_grading(raw)
    locator = QuoteLocator(document)
    passages = split_passages(document)
    detected = find_injection_passages(document, passages)
    injections = detected + _reported_passages(raw, locator, passages)
    by_id = {f.criterion_id: f for f in raw.findings}
    failures = {f.criterion_id: f.reason for f in raw.failures}
    findings = []
    for criterion in rubric.criteria:
        if criterion.id in by_id:
            finding = build_finding(criterion, by_id[criterion.id], locator, injections)
            findings.append(finding.model_copy(update={"details": raw.details.get(criterion.id)}))
        else:
            reason = failures.get(criterion.id, "the grading backend returned no finding for this criterion")
            findings.append(_error_finding(criterion, reason))

    warnings = [
        *document.warnings,
        *raw.warnings,
        *_injection_warnings(injections),
        *(masked.warnings() if masked else []),
    ]
    if offline:
        warnings.insert(
            0,
            ReviewWarning(
                code="offline_grader",
                message=(
                    f"graded by the offline grader's stance engine (retrieval plus the local entailment model "
                    f"{raw.model}): "
                    if raw.model
                    else "graded by the offline grader (lexical retrieval and rules, no language model): "
                )
                + "use it for triage, read the cited passages, and confirm the grades with a model or a person",
            ),
        )
    score = overall_score(findings)
    red_flags = sum(1 for f in findings if f.grade is Grade.RED_FLAG)
    errors = sum(1 for f in findings if f.error)
    return Review(
        created_at=datetime.now(UTC),
        document=DocumentInfo(
            file_name=document.file_name,
            sha256=document.sha256,
            pages=document.page_count,
            source=document.source,
        ),
        rubric=RubricInfo(id=rubric.id, version=rubric.version, title=rubric.title),
        backend=backend,
        offline=offline,
        model=raw.model,
        prompt_version=raw.prompt_version,
        vendor_name=raw.vendor_name,
        findings=findings,
        overall_score=score,
        score_complete=errors == 0,
        verdict=verdict_for(score, red_flags, errors),
        red_flag_count=red_flags,
        unsupported_count=sum(1 for f in findings if FindingFlag.UNSUPPORTED in f.flags),
        error_count=errors,
        warnings=warnings,
        usage=raw.usage,
        blind=bool(masked and masked.blind),
    )
