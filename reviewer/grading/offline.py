"""The offline grader: no network, no key, deterministic.

For each criterion it retrieves the passages most relevant to the criterion (BM25 over sentence-sized
passages, the query built from the rubric's own title, description, guidance and keywords), then
grades from them with stated cues: how many of the criterion's terms the evidence covers, whether it
is specific (numbers, commitments), and whether it reads like the criterion's red flag. Every quote it
cites is a passage of the document, so its citations verify. It is a triage tool and a second
opinion, not a substitute for a model or a person, and every output says it came from here.
"""

import re
from collections import Counter

from reviewer.config import Settings
from reviewer.documents import Document
from reviewer.grading.base import RawCitation, RawFinding, RawGrading
from reviewer.injection import looks_like_injection
from reviewer.passages import Passage, split_passages
from reviewer.retrieval import BM25Index, tokenize
from reviewer.review import Grade
from reviewer.rubric import Criterion, Rubric

GRADER_VERSION = "offline/v1"
EVIDENCE_PASSAGES = 3
MIN_MATCHED_TERMS = 2
MET_MATCHED_KEY_TERMS = 3
KEYWORD_WEIGHT = 2.0

_SPECIFIC = re.compile(
    r"\d|\b(?:will|shall|commit(?:s|ted)?|guarantee[sd]?|includ(?:e|es|ed|ing)|provide[sd]?|deliver(?:s|ed)?)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\b(?:not|never|without|exclud(?:e|es|ed|ing)|outside (?:the |of )?scope|out of scope|retain(?:s|ed)?|"
    r"reserve[sd]? the right|proprietary|at (?:an )?additional cost|extra (?:cost|charge)|"
    r"(?:client|customer)'?s? (?:own )?responsibility|responsibility of the (?:client|customer)|"
    r"to be (?:determined|agreed) later|tbd|sole (?:discretion|property))\b",
    re.IGNORECASE,
)


def _criterion_query(criterion: Criterion) -> tuple[Counter[str], set[str]]:
    query: Counter[str] = Counter(tokenize(" ".join([criterion.title, criterion.description, criterion.guidance.met])))
    key_terms = set(tokenize(" ".join([criterion.title, *criterion.keywords])))
    for term in tokenize(" ".join(criterion.keywords)):
        query[term] += KEYWORD_WEIGHT
    return query, key_terms


def _overlap(text_terms: set[str], guidance: str) -> int:
    return len(text_terms & set(tokenize(guidance)))


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
        findings = [self._grade_criterion(criterion, passages, index) for criterion in rubric.criteria]
        return RawGrading(findings=findings, model=None, prompt_version=GRADER_VERSION)

    def _grade_criterion(self, criterion: Criterion, passages: list[Passage], index: BM25Index) -> RawFinding:
        query, key_terms = _criterion_query(criterion)
        hits = index.search(query, top_k=EVIDENCE_PASSAGES * 2)
        relevant = [
            (passages[h.index], terms)
            for h in hits
            if len(terms := set(tokenize(passages[h.index].text)) & set(query)) >= MIN_MATCHED_TERMS
        ]
        evidence = relevant[:EVIDENCE_PASSAGES]
        if not evidence:
            return RawFinding(
                criterion_id=criterion.id,
                grade=Grade.MISSING,
                rationale="Offline grader: no passage in the proposal shares enough of this criterion's terms.",
                clarification_question=criterion.default_question,
            )

        for passage, _ in relevant:
            terms = set(tokenize(passage.text))
            on_topic = len(terms & key_terms) >= MIN_MATCHED_TERMS
            if (
                on_topic
                and _NEGATIVE.search(passage.text)
                and _overlap(terms, criterion.guidance.red_flag) > _overlap(terms, criterion.guidance.met)
            ):
                return RawFinding(
                    criterion_id=criterion.id,
                    grade=Grade.RED_FLAG,
                    rationale=(
                        f"Offline grader: the passage on page {passage.page} reads like this criterion's red flag "
                        f"(a negative or exclusion cue: '{_NEGATIVE.search(passage.text).group(0)}')."
                    ),
                    citations=[RawCitation(page=passage.page, quote=passage.text)],
                    clarification_question=criterion.default_question,
                )

        covered = set().union(*(terms for _, terms in evidence)) & key_terms
        specific = any(_SPECIFIC.search(p.text) for p, _ in evidence)
        grade = Grade.MET if len(covered) >= MET_MATCHED_KEY_TERMS and specific else Grade.PARTIAL
        pages = sorted({p.page for p, _ in evidence})
        rationale = (
            f"Offline grader: {len(evidence)} relevant passage(s) on page(s) {', '.join(map(str, pages))} "
            f"cover {len(covered)} of the criterion's key terms ({', '.join(sorted(covered)) or 'none'})"
            + ("; they make specific commitments." if specific else "; none is specific.")
        )
        return RawFinding(
            criterion_id=criterion.id,
            grade=grade,
            rationale=rationale,
            citations=[RawCitation(page=p.page, quote=p.text) for p, _ in evidence],
            clarification_question=None if grade is Grade.MET else criterion.default_question,
        )


def create_backend(settings: Settings) -> OfflineBackend:
    return OfflineBackend(settings)
