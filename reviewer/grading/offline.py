"""The offline grader: no network, no key, deterministic.

For each criterion it retrieves the passages most relevant to the criterion (BM25 over sentence-sized
passages; the query is the rubric's own description, `met` guidance and keywords), then grades from
them with three stated cues:

1. Is the criterion addressed at all? The best passage's score per unit of query weight must reach
   the present threshold, else the grade is `missing` and nothing is cited.
2. Does the evidence read like the red flag? Among the top passages, the best match for the rubric's
   `red_flag` guidance is compared with the best match for its `met` guidance (negations and modal
   verbs kept); a lead of at least the red-flag margin gives `red_flag`.
3. Otherwise `met`; where the rubric uses `partial`, `met` needs the evidence to cover at least
   MET_KEY_TERMS of the criterion's key terms and to be specific (numbers, firm commitments), else
   `partial`.

The two thresholds apply to a whole rubric, never per criterion. Scores run higher in formulaic
documents (contracts) than in proposals, so a rubric may carry thresholds calibrated on a labelled
set (`offline:` in the rubric file, found with bench/offline_calibration.py); otherwise the
defaults below apply, lenient about presence because proposals rarely say nothing at all on a
criterion. Every quote is a passage of the document, so citations verify, and passages that try to
instruct the reviewer are never read.
"""

import asyncio
import re
from collections import Counter
from dataclasses import dataclass

from reviewer.config import Settings
from reviewer.documents import Document
from reviewer.grading.base import RawCitation, RawFinding, RawGrading
from reviewer.injection import looks_like_injection
from reviewer.passages import Passage, split_passages
from reviewer.retrieval import BM25Index, tokenize
from reviewer.review import Grade
from reviewer.rubric import Criterion, Rubric

GRADER_VERSION = "offline/v2"
EVIDENCE_PASSAGES = 3
DEFAULT_PRESENT_THRESHOLD = 0.15
DEFAULT_RED_FLAG_MARGIN = 2.1
MET_KEY_TERMS = 3
KEYWORD_WEIGHT = 2.0

_SPECIFIC = re.compile(
    r"\d|\b(?:will|shall|must|commit(?:s|ted)?|guarantee[sd]?|includ(?:e|es|ed|ing)|provide[sd]?|deliver(?:s|ed)?)\b",
    re.IGNORECASE,
)


class CriterionQuery:
    """The retrieval query of one criterion, and its met / red-flag guidance as queries."""

    def __init__(self, criterion: Criterion) -> None:
        self.terms: Counter[str] = Counter(tokenize(f"{criterion.description} {criterion.guidance.met}"))
        for term in tokenize(" ".join(criterion.keywords)):
            self.terms[term] += KEYWORD_WEIGHT
        self.weight = sum(self.terms.values()) or 1.0
        self.key_terms = set(tokenize(" ".join([criterion.title, *criterion.keywords])))
        self.met = Counter(tokenize(criterion.guidance.met, keep_stopwords=True))
        self.red_flag = Counter(tokenize(criterion.guidance.red_flag, keep_stopwords=True))


@dataclass(frozen=True)
class Assessment:
    """What the grader measured for one criterion; the grade follows from it and two thresholds."""

    relevance: float
    red_flag_lead: float
    evidence: list[Passage]
    red_flag_passage: Passage | None
    covered_terms: frozenset[str]
    specific: bool


def assess(criterion: Criterion, passages: list[Passage], index: BM25Index) -> Assessment:
    query = CriterionQuery(criterion)
    hits = index.search(query.terms, top_k=EVIDENCE_PASSAGES)
    if not hits:
        return Assessment(0.0, 0.0, [], None, frozenset(), False)
    evidence = [passages[h.index] for h in hits]
    red_scores = [index.score(query.red_flag, h.index) for h in hits]
    lead = max(red_scores) - max(index.score(query.met, h.index) for h in hits)
    covered = set().union(*(set(tokenize(p.text)) for p in evidence)) & query.key_terms
    return Assessment(
        relevance=hits[0].score / query.weight,
        red_flag_lead=lead,
        evidence=evidence,
        red_flag_passage=evidence[red_scores.index(max(red_scores))],
        covered_terms=frozenset(covered),
        specific=any(_SPECIFIC.search(p.text) for p in evidence),
    )


def decide(assessment: Assessment, rubric: Rubric, present_threshold: float, red_flag_margin: float) -> Grade:
    if assessment.relevance < present_threshold:
        return Grade.MISSING
    if rubric.allows(Grade.RED_FLAG) and assessment.red_flag_lead >= red_flag_margin:
        return Grade.RED_FLAG
    if rubric.allows(Grade.PARTIAL) and not (len(assessment.covered_terms) >= MET_KEY_TERMS and assessment.specific):
        return Grade.PARTIAL
    return Grade.MET


def thresholds(rubric: Rubric) -> tuple[float, float]:
    present, margin = rubric.offline.present_threshold, rubric.offline.red_flag_margin
    return (
        DEFAULT_PRESENT_THRESHOLD if present is None else present,
        DEFAULT_RED_FLAG_MARGIN if margin is None else margin,
    )


def index_document(document: Document) -> tuple[list[Passage], BM25Index]:
    """The passages the grader may read (never those that try to instruct it), and their index."""
    passages = [p for p in split_passages(document) if not looks_like_injection(p.text)]
    return passages, BM25Index([p.text for p in passages])


def _rationale(grade: Grade, a: Assessment, present_threshold: float, red_flag_margin: float) -> str:
    if grade is Grade.MISSING:
        return (
            "Offline grader: no passage addresses this criterion closely enough "
            f"(best relevance {a.relevance:.2f}, needs {present_threshold:g})."
        )
    if grade is Grade.RED_FLAG:
        return (
            f"Offline grader: the passage on page {a.red_flag_passage.page} matches the criterion's red-flag "
            f"description better than its 'met' description (lead {a.red_flag_lead:.1f}, needs {red_flag_margin:g})."
        )
    pages = ", ".join(str(n) for n in sorted({p.page for p in a.evidence}))
    return (
        f"Offline grader: relevant passages on page(s) {pages} (relevance {a.relevance:.2f}) cover "
        f"{len(a.covered_terms)} of the criterion's key terms ({', '.join(sorted(a.covered_terms)) or 'none'})"
        + ("; they make specific commitments." if a.specific else "; none is specific.")
    )


class OfflineBackend:
    name = "offline"
    offline = True

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings

    async def grade(self, document: Document, rubric: Rubric) -> RawGrading:
        return await asyncio.to_thread(self.grade_sync, document, rubric)

    def grade_sync(self, document: Document, rubric: Rubric) -> RawGrading:
        passages, index = index_document(document)
        present_threshold, red_flag_margin = thresholds(rubric)
        findings = []
        for criterion in rubric.criteria:
            a = assess(criterion, passages, index)
            grade = decide(a, rubric, present_threshold, red_flag_margin)
            cited = [] if grade is Grade.MISSING else a.evidence
            if grade is Grade.RED_FLAG:
                cited = [a.red_flag_passage] + [p for p in a.evidence if p is not a.red_flag_passage]
            findings.append(
                RawFinding(
                    criterion_id=criterion.id,
                    grade=grade,
                    rationale=_rationale(grade, a, present_threshold, red_flag_margin),
                    citations=[RawCitation(page=p.page, quote=p.text) for p in cited],
                    clarification_question=None if grade is Grade.MET else criterion.default_question,
                )
            )
        return RawGrading(findings=findings, model=None, prompt_version=GRADER_VERSION)


def create_backend(settings: Settings) -> OfflineBackend:
    return OfflineBackend(settings)
