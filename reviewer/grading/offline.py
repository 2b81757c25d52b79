"""The offline grader: no network, no key, deterministic.

For each criterion it retrieves the passages most relevant to the criterion (BM25 over sentence-sized
passages; the query is the rubric's own description, `met` guidance and keywords), then grades from
them with three stated cues:

1. Is the criterion addressed at all? The best passage's score per unit of query weight must reach
   the present threshold, else the grade is `missing` and nothing is cited.
2. Does the evidence read like the red flag? The words that only the rubric's `red_flag` guidance
   uses (not its `met` guidance) are the red-flag cues, and the words only the `met` guidance uses
   are the met cues; words both share ("code", "weights") say what the criterion is about, not which
   way the document leans, so they are left out. Among the top passages, a lead of the best
   red-flag-cue match over the best met-cue match of at least the red-flag margin gives `red_flag`.
3. Otherwise `met`; where the rubric uses `partial`, `met` needs the evidence to cover at least
   MET_KEY_TERMS of the criterion's key terms (title and keywords), else `partial`.

The two thresholds apply to a whole rubric, never per criterion. A rubric may carry thresholds
calibrated on a labelled set (`offline:` in the rubric file, found with bench/offline_calibration.py).
Otherwise the red-flag margin is the one calibrated on ContractNLI (it carries over: margins are
differences of cue matches, not absolute scores), and the presence threshold is lenient, because
scores run lower in proposals than in contracts and proposals rarely say nothing at all on a
criterion. Every quote is a passage of the document, so citations verify, and passages that try to
instruct the reviewer are never read.

With the stance engine installed (`reviewer[local]`, see reviewer/grading/stance.py) the same retrieved
passages are also read by a local entailment model against hypotheses taken from the rubric's own `met`
and `red_flag` guidance (reviewer/grading/hypotheses.py), and `decide_with_stance` grades from both:
a passage that entails the red flag more than the commitment, by STANCE_MARGIN (chosen on ContractNLI
dev, bench/stance_calibration.py), is a red flag whatever its words; a lexical red flag whose passage
entails the commitment by that margin is not; a `met` whose evidence also reads like the red flag is
`partial`, needs a person, where the rubric has `partial` (from half the margin). Every review names the
engine that graded it.
"""

import asyncio
from collections import Counter
from dataclasses import dataclass, replace

from reviewer.config import Settings
from reviewer.documents import Document
from reviewer.grading.base import RawCitation, RawFinding, RawGrading
from reviewer.grading.hypotheses import hypotheses
from reviewer.grading.stance import StanceModel, load_stance_model
from reviewer.injection import looks_like_injection
from reviewer.passages import Passage, is_heading, split_passages
from reviewer.restated import restates_rubric
from reviewer.retrieval import BM25Index, tokenize, words_for_terms
from reviewer.review import Grade
from reviewer.rubric import Criterion, Rubric

GRADER_VERSION = "offline/v4"
STANCE_VERSION = "offline/v4+stance/v1"
STANCE_MARGIN = 0.95
EVIDENCE_PASSAGES = 3
DEFAULT_PRESENT_THRESHOLD = 0.15
DEFAULT_RED_FLAG_MARGIN = 0.7
MET_KEY_TERMS = 3
KEYWORD_WEIGHT = 2.0
SUPPORT_RATIO = 0.5


class CriterionQuery:
    """The retrieval query of one criterion, and the cue words of its met and red-flag guidance."""

    def __init__(self, criterion: Criterion) -> None:
        self.terms: Counter[str] = Counter(tokenize(f"{criterion.description} {criterion.guidance.met}"))
        for term in tokenize(" ".join(criterion.keywords)):
            self.terms[term] += KEYWORD_WEIGHT
        self.weight = sum(self.terms.values()) or 1.0
        self.key_terms = set(tokenize(" ".join([criterion.title, *criterion.keywords])))
        met = Counter(tokenize(criterion.guidance.met))
        red_flag = Counter(tokenize(criterion.guidance.red_flag))
        self.met_cues = Counter({t: n for t, n in met.items() if t not in red_flag})
        self.red_flag_cues = Counter({t: n for t, n in red_flag.items() if t not in met})


@dataclass(frozen=True)
class Assessment:
    """What the grader measured for one criterion; the grade follows from it and two thresholds."""

    relevance: float
    red_flag_lead: float
    evidence: list[Passage]
    red_flag_passage: Passage | None
    red_flag_words: tuple[str, ...]
    covered_terms: frozenset[str]
    covered_words: tuple[str, ...]
    support: tuple[float, ...] = ()
    red_flag_support: tuple[float, ...] = ()
    on_topic: tuple[bool, ...] = ()


def assess(
    criterion: Criterion, passages: list[Passage], index: BM25Index, sections: dict[Passage, str] | None = None
) -> Assessment:
    query = CriterionQuery(criterion)
    hits = index.search(query.terms, top_k=EVIDENCE_PASSAGES)
    if not hits:
        return Assessment(0.0, 0.0, [], None, (), frozenset(), ())
    evidence = [passages[h.index] for h in hits]
    red_scores = [index.score(query.red_flag_cues, h.index) for h in hits]
    lead = max(red_scores) - max(index.score(query.met_cues, h.index) for h in hits)
    red_flag_passage = evidence[red_scores.index(max(red_scores))]
    sections = sections or {}
    read = [f"{sections.get(p, '')} {p.text}" for p in evidence]
    covered = set().union(*(set(tokenize(text)) for text in read)) & query.key_terms
    return Assessment(
        relevance=hits[0].score / query.weight,
        red_flag_lead=lead,
        evidence=evidence,
        red_flag_passage=red_flag_passage,
        red_flag_words=tuple(words_for_terms([red_flag_passage.text], set(query.red_flag_cues))),
        covered_terms=frozenset(covered),
        covered_words=tuple(words_for_terms(read, covered)),
        support=tuple(h.score / hits[0].score for h in hits),
        red_flag_support=tuple(red_scores),
        on_topic=tuple(bool(set(tokenize(p.text)) & query.key_terms) for p in evidence),
    )


def cited_passages(grade: Grade, a: Assessment) -> list[Passage]:
    """The passages that support the grade, best first: none for `missing`; for `red_flag`, the passage
    that reads like the red flag first; otherwise the best match first. A further passage is padding, and
    left out, when it is both weak (under SUPPORT_RATIO of the best match's score) and unrelated (for a
    red flag, no red-flag word; otherwise, none of the criterion's key terms): fewer citations beat
    unrelated ones."""
    if grade is Grade.MISSING or not a.evidence:
        return []
    if grade is Grade.RED_FLAG:
        others = [
            p
            for p, red, support in zip(a.evidence, a.red_flag_support, a.support, strict=True)
            if p is not a.red_flag_passage and (red > 0 or support >= SUPPORT_RATIO)
        ]
        return [a.red_flag_passage, *others]
    return [a.evidence[0]] + [
        p
        for p, support, on_topic in zip(a.evidence[1:], a.support[1:], a.on_topic[1:], strict=True)
        if support >= SUPPORT_RATIO or on_topic
    ]


def decide(assessment: Assessment, rubric: Rubric, present_threshold: float, red_flag_margin: float) -> Grade:
    if assessment.relevance < present_threshold:
        return Grade.MISSING
    leans_to_red_flag = assessment.red_flag_words and assessment.red_flag_lead >= red_flag_margin
    if rubric.allows(Grade.RED_FLAG) and leans_to_red_flag:
        return Grade.RED_FLAG
    if rubric.allows(Grade.PARTIAL) and len(assessment.covered_terms) < MET_KEY_TERMS:
        return Grade.PARTIAL
    return Grade.MET


@dataclass(frozen=True)
class StanceReading:
    """How each evidence passage (in evidence order) stands to the criterion's commitment (`met`
    hypotheses) and its red flag: the strongest entailment and contradiction of each, and the hypotheses
    behind the red-flag reading, for the rationale."""

    for_met: tuple[float, ...]
    against_met: tuple[float, ...]
    for_red_flag: tuple[float, ...]
    against_red_flag: tuple[float, ...]
    said: tuple[str, ...]

    def lead(self, i: int) -> float:
        """How far passage i leans to the red flag: entailing it or contradicting the commitment, against
        entailing the commitment or contradicting the red flag."""
        return max(self.for_red_flag[i], self.against_met[i]) - max(self.for_met[i], self.against_red_flag[i])

    @property
    def red_flag_passage(self) -> int:
        return max(range(len(self.for_met)), key=self.lead)


def read_stance(model: StanceModel, criterion: Criterion, evidence: list[Passage]) -> StanceReading:
    met_h = hypotheses(criterion.guidance.met)
    red_h = hypotheses(criterion.guidance.red_flag)
    scored = model.score([(p.text, h) for p in evidence for h in (*met_h, *red_h)])
    width = len(met_h) + len(red_h)
    rows = [scored[i * width : (i + 1) * width] for i in range(len(evidence))]
    for_met, against_met, for_red, against_red, said = [], [], [], [], []
    for row in rows:
        met, red = row[: len(met_h)], row[len(met_h) :]
        for_met.append(max((s.entailment for s in met), default=0.0))
        against_met.append(max((s.contradiction for s in met), default=0.0))
        for_red.append(max((s.entailment for s in red), default=0.0))
        against_red.append(max((s.contradiction for s in red), default=0.0))
        best_red = max(range(len(red)), key=lambda i: red[i].entailment, default=None)
        best_against = max(range(len(met)), key=lambda i: met[i].contradiction, default=None)
        if best_red is not None and red[best_red].entailment >= (met[best_against].contradiction if met else 0):
            said.append(f"it says “{red_h[best_red]}”")
        elif best_against is not None:
            said.append(f"it contradicts “{met_h[best_against]}”")
        else:
            said.append("")
    return StanceReading(tuple(for_met), tuple(against_met), tuple(for_red), tuple(against_red), tuple(said))


def decide_with_stance(
    assessment: Assessment,
    stance: StanceReading,
    rubric: Rubric,
    present_threshold: float,
    red_flag_margin: float,
    stance_margin: float = STANCE_MARGIN,
) -> tuple[Grade, bool]:
    """The grade, and whether the engine was unsure (a person should read it). Retrieval still decides
    whether the criterion is addressed; the model decides which way the evidence leans, with the lexical
    cues as the tie-breaker."""
    lexical = decide(assessment, rubric, present_threshold, red_flag_margin)
    if lexical is Grade.MISSING or not stance.for_met:
        return lexical, False
    lead = stance.lead(stance.red_flag_passage)
    if rubric.allows(Grade.RED_FLAG) and lead >= stance_margin:
        return Grade.RED_FLAG, False
    if lexical is Grade.RED_FLAG and -max(map(stance.lead, range(len(stance.for_met)))) >= stance_margin:
        lexical = (
            Grade.PARTIAL
            if rubric.allows(Grade.PARTIAL) and len(assessment.covered_terms) < MET_KEY_TERMS
            else Grade.MET
        )
    if lexical is Grade.MET and lead >= stance_margin / 2 and rubric.allows(Grade.PARTIAL):
        return Grade.PARTIAL, True
    return lexical, False


def thresholds(rubric: Rubric) -> tuple[float, float]:
    present, margin = rubric.offline.present_threshold, rubric.offline.red_flag_margin
    return (
        DEFAULT_PRESENT_THRESHOLD if present is None else present,
        DEFAULT_RED_FLAG_MARGIN if margin is None else margin,
    )


def index_document(
    document: Document, *, headings: bool = True, rubric: Rubric | None = None
) -> tuple[list[Passage], BM25Index]:
    """The passages a grader may read (never those that try to instruct it), and their index. The
    offline grader leaves headings out: it cites what it matches, and a heading states nothing."""
    passages = [
        p
        for p in split_passages(document)
        if not looks_like_injection(p.text)
        and (headings or not is_heading(p))
        and not (rubric and restates_rubric(p.text, rubric))
    ]
    return passages, BM25Index([p.text for p in passages])


def section_headings(document: Document) -> dict[Passage, str]:
    """Each passage -> the heading it sits under: a heading is never evidence, but it says what the
    passages below it are about, so their coverage of a criterion's key terms counts it."""
    sections, current = {}, ""
    for passage in split_passages(document):
        if is_heading(passage):
            current = passage.text
        else:
            sections[passage] = current
    return sections


def _pages(passages: list[Passage]) -> str:
    pages = sorted({p.page for p in passages})
    if len(pages) == 1:
        return f"Page {pages[0]}"
    return "Pages " + ", ".join(map(str, pages[:-1])) + f" and {pages[-1]}"


def _listed(words: tuple[str, ...], most: int = 5) -> str:
    quoted = [f"“{w}”" for w in words[:most]]
    if len(words) > most:
        return ", ".join(quoted) + " and more"
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" and {quoted[-1]}"


def rationale(grade: Grade, a: Assessment, cited: list[Passage]) -> str:
    """What was found, where, and why that grade, in words for the person who reads the report."""
    if grade is Grade.MISSING:
        return (
            "The proposal does not appear to address this criterion: no passage discusses it closely "
            "enough to grade. Ask the vendor."
        )
    if grade is Grade.RED_FLAG:
        return (
            f"Page {a.red_flag_passage.page} reads like this criterion's red flag: it says "
            f"{_listed(a.red_flag_words)}, the rubric's language for a red flag, rather than the commitment "
            "a full answer makes. Read the quoted passage before deciding."
        )
    where, one = _pages(cited), len({p.page for p in cited}) == 1
    if grade is Grade.PARTIAL:
        covered = f"only {_listed(a.covered_words)}" if a.covered_words else "none of its key points"
        return (
            f"{where} {'touches' if one else 'touch'} on this criterion but {'mentions' if one else 'mention'} "
            f"{covered}; a full answer covers at least {MET_KEY_TERMS} of its key points. Ask the vendor "
            "for the rest."
        )
    covering = f", covering {_listed(a.covered_words)}" if a.covered_words else ""
    return (
        f"{where} {'addresses' if one else 'address'} this criterion{covering}; nothing there reads like the red flag."
    )


def details(a: Assessment, present_threshold: float, red_flag_margin: float) -> str:
    """The figures behind the grade, for whoever checks or calibrates the grader."""
    return (
        f"{GRADER_VERSION}: relevance {a.relevance:.2f} (addressed from {present_threshold:g}); "
        f"red-flag lead {a.red_flag_lead:.1f} (red flag from {red_flag_margin:g}); "
        f"key terms covered {len(a.covered_terms)} (met needs {MET_KEY_TERMS} where partial is allowed)."
    )


def stance_rationale(grade: Grade, stance: StanceReading, unsure: bool, cited: list[Passage], base: str) -> str:
    """In plain words what the cited passage commits to, by the model's reading, and why that grade."""
    i = stance.red_flag_passage
    if grade is Grade.RED_FLAG:
        return (
            f"The quoted passage reads as this criterion's red flag: the local model finds that {stance.said[i]} "
            f"(leaning {stance.lead(i):.2f} to the red flag). Read it before deciding."
        )
    if unsure:
        return (
            f"{base} But the local model reads a cited passage as leaning to the red flag ({stance.said[i]}): "
            "needs a person."
        )
    return base


def stance_details(stance: StanceReading, model: str, stance_margin: float) -> str:
    lead = max(map(stance.lead, range(len(stance.for_met))), default=0.0)
    return f" {STANCE_VERSION} ({model}): red-flag lean {lead:.2f} (red flag from {stance_margin:g})."


class OfflineBackend:
    """The offline grader. With a stance model it reads stance too (the stance engine); without, it is
    lexical. `create_backend` loads the model REVIEWER_LOCAL_MODEL names."""

    name = "offline"
    offline = True

    def __init__(
        self, settings: Settings | None = None, stance: StanceModel | None = None, stance_margin: float = STANCE_MARGIN
    ) -> None:
        self.settings = settings
        self.stance = stance
        self.stance_margin = stance_margin

    @property
    def engine(self) -> str:
        return f"stance ({self.stance.name})" if self.stance else "lexical"

    async def grade(self, document: Document, rubric: Rubric) -> RawGrading:
        return await asyncio.to_thread(self.grade_sync, document, rubric)

    def grade_sync(self, document: Document, rubric: Rubric) -> RawGrading:
        passages, index = index_document(document, headings=False, rubric=rubric)
        sections = section_headings(document)
        present_threshold, red_flag_margin = thresholds(rubric)
        findings, figures = [], {}
        for criterion in rubric.criteria:
            a = assess(criterion, passages, index, sections)
            figures[criterion.id] = details(a, present_threshold, red_flag_margin)
            if self.stance and a.evidence and a.relevance >= present_threshold:
                stance = read_stance(self.stance, criterion, a.evidence)
                grade, unsure = decide_with_stance(
                    a, stance, rubric, present_threshold, red_flag_margin, self.stance_margin
                )
                if grade is Grade.RED_FLAG:
                    a = replace(a, red_flag_passage=a.evidence[stance.red_flag_passage])
                cited = cited_passages(grade, a)
                base = "" if grade is Grade.RED_FLAG else rationale(grade, a, cited)
                text = stance_rationale(grade, stance, unsure, cited, base)
                figures[criterion.id] += stance_details(stance, self.stance.name, self.stance_margin)
            else:
                grade = decide(a, rubric, present_threshold, red_flag_margin)
                cited = cited_passages(grade, a)
                text = rationale(grade, a, cited)
            findings.append(
                RawFinding(
                    criterion_id=criterion.id,
                    grade=grade,
                    rationale=text,
                    citations=[RawCitation(page=p.page, quote=p.text) for p in cited],
                    clarification_question=None if grade is Grade.MET else criterion.default_question,
                )
            )
        version = STANCE_VERSION if self.stance else GRADER_VERSION
        return RawGrading(
            findings=findings, model=self.stance.name if self.stance else None, prompt_version=version, details=figures
        )


def create_backend(settings: Settings) -> OfflineBackend:
    """The offline grader, reading stance when the `local` extra and a model are installed."""
    return OfflineBackend(
        settings, stance=load_stance_model(settings.grading.local_model, settings.grading.resolved_models_dir)
    )
