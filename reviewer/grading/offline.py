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

import re
from collections import Counter

from reviewer.config import Settings
from reviewer.documents import Document
from reviewer.grading.base import RawCitation, RawFinding, RawGrading
from reviewer.injection import looks_like_injection
from reviewer.passages import Passage, split_passages
from reviewer.retrieval import BM25Index, Hit, tokenize
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


class OfflineBackend:
    name = "offline"
    offline = True

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings

    async def grade(self, document: Document, rubric: Rubric) -> RawGrading:
        return self.grade_sync(document, rubric)

    def grade_sync(self, document: Document, rubric: Rubric) -> RawGrading:
        passages = [p for p in split_passages(document) if not looks_like_injection(p.text)]
        index = BM25Index([p.text for p in passages])
        findings = [self.grade_criterion(criterion, rubric, passages, index) for criterion in rubric.criteria]
        return RawGrading(findings=findings, model=None, prompt_version=GRADER_VERSION)

    @staticmethod
    def retrieve(criterion: Criterion, index: BM25Index, top_k: int = EVIDENCE_PASSAGES) -> list[Hit]:
        return index.search(CriterionQuery(criterion).terms, top_k=top_k)

    def grade_criterion(
        self, criterion: Criterion, rubric: Rubric, passages: list[Passage], index: BM25Index
    ) -> RawFinding:
        present_threshold = rubric.offline.present_threshold
        present_threshold = DEFAULT_PRESENT_THRESHOLD if present_threshold is None else present_threshold
        red_flag_margin = rubric.offline.red_flag_margin
        red_flag_margin = DEFAULT_RED_FLAG_MARGIN if red_flag_margin is None else red_flag_margin
        query = CriterionQuery(criterion)
        hits = index.search(query.terms, top_k=EVIDENCE_PASSAGES)
        relevance = hits[0].score / query.weight if hits else 0.0
        if relevance < present_threshold:
            return RawFinding(
                criterion_id=criterion.id,
                grade=Grade.MISSING,
                rationale=(
                    f"Offline grader: no passage addresses this criterion closely enough "
                    f"(best relevance {relevance:.2f}, needs {present_threshold:g})."
                ),
                clarification_question=criterion.default_question,
            )
        evidence = [passages[h.index] for h in hits]

        if rubric.allows(Grade.RED_FLAG):
            red_scores = [index.score(query.red_flag, h.index) for h in hits]
            lead = max(red_scores) - max(index.score(query.met, h.index) for h in hits)
            if lead >= red_flag_margin:
                worst = evidence[red_scores.index(max(red_scores))]
                ordered = [worst] + [p for p in evidence if p is not worst]
                return RawFinding(
                    criterion_id=criterion.id,
                    grade=Grade.RED_FLAG,
                    rationale=(
                        f"Offline grader: the passage on page {worst.page} matches the criterion's red-flag "
                        f"description better than its 'met' description (lead {lead:.1f}, needs {red_flag_margin:g})."
                    ),
                    citations=[RawCitation(page=p.page, quote=p.text) for p in ordered],
                    clarification_question=criterion.default_question,
                )

        covered = set().union(*(set(tokenize(p.text)) for p in evidence)) & query.key_terms
        specific = any(_SPECIFIC.search(p.text) for p in evidence)
        grade = Grade.MET
        if rubric.allows(Grade.PARTIAL) and not (len(covered) >= MET_KEY_TERMS and specific):
            grade = Grade.PARTIAL
        pages = ", ".join(str(n) for n in sorted({p.page for p in evidence}))
        rationale = (
            f"Offline grader: relevant passages on page(s) {pages} (relevance {relevance:.2f}) cover "
            f"{len(covered)} of the criterion's key terms ({', '.join(sorted(covered)) or 'none'})"
            + ("; they make specific commitments." if specific else "; none is specific.")
        )
        return RawFinding(
            criterion_id=criterion.id,
            grade=grade,
            rationale=rationale,
            citations=[RawCitation(page=p.page, quote=p.text) for p in evidence],
            clarification_question=None if grade is Grade.MET else criterion.default_question,
        )


def create_backend(settings: Settings) -> OfflineBackend:
    return OfflineBackend(settings)
