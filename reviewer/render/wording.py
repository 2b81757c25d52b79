"""Words every renderer shares: the offline grader's label, counted nouns, clipping at a word, and the
question a finding asks the vendor (reports and the questions document ask the same)."""

from reviewer.render.escape import one_line
from reviewer.review import Finding, Grade

OFFLINE_TITLE = "Offline grader."
OFFLINE_BANNER = (
    "Graded by lexical retrieval and rules, without a language model: it finds the passages that matter "
    "more reliably than it judges them. Use it for triage: read the cited passages, and confirm the grades "
    "with a model-backed review or a person."
)
OFFLINE_SHORT = "offline grader (no language model): triage only"


def offline_banner(offline: int = 1, total: int = 1) -> str:
    """The offline label, one sentence longer when only some of `total` reviews were graded offline."""
    scope = "" if offline >= total else f" {offline} of {total} reviews here were graded offline."
    return f"{OFFLINE_TITLE}{scope} {OFFLINE_BANNER}"


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """'1 red flag', '2 red flags', '0 pages'."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"


def clip(text: str, limit: int) -> str:
    """Whitespace collapsed, and cut to `limit` characters at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def describe_question(title: str) -> str:
    return f"Please describe how your proposal addresses: {one_line(title)}."


def question_for(finding: Finding, grade: Grade | None) -> str | None:
    if grade is Grade.MET:
        return None
    # A failed criterion, or one a person downgraded from met, may have no question the model wrote:
    # the vendor is then asked to describe it.
    return (finding.clarification_question or "").strip() or describe_question(finding.title)


def open_question(finding: Finding) -> str | None:
    """What to ask the vendor about a finding at its grade (a final grade, once people decided): nothing
    once it is met. Reports and the questions document ask the same."""
    return question_for(finding, finding.grade)
