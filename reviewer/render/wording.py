"""Words every renderer shares: the offline grader's label, counted nouns, and clipping at a word."""

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
