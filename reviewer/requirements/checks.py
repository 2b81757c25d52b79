"""What every extractor's output goes through: quotes verified against the RFP, duplicates merged."""

import re

from reviewer.citations import QuoteLocator
from reviewer.documents import Document
from reviewer.requirements.models import DroppedRequirement, Requirement

DUPLICATE_OVERLAP = 0.85
_WORD = re.compile(r"[a-z0-9]+")


def verify_quotes(
    document: Document, requirements: list[Requirement]
) -> tuple[list[Requirement], list[DroppedRequirement]]:
    """Keep the requirements whose quote is found in the RFP (page corrected if it was wrong)."""
    locator = QuoteLocator(document)
    kept: list[Requirement] = []
    dropped: list[DroppedRequirement] = []
    for requirement in requirements:
        citation = locator.locate(requirement.page, requirement.quote)
        if citation.verified:
            kept.append(requirement.model_copy(update={"page": citation.page}))
        else:
            dropped.append(DroppedRequirement(requirement=requirement, reason=citation.note or "quote not found"))
    return kept, dropped


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.casefold()))


def overlap(a: str, b: str) -> float:
    """Share of the shorter text's words that the other one has too."""
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


def deduplicate(requirements: list[Requirement]) -> list[Requirement]:
    """The same requirement stated twice (a summary table and the section, a checklist annex) is kept
    once: the first statement, with a clause number from the other when it lacks one."""
    kept: list[Requirement] = []
    for requirement in requirements:
        twin = next((i for i, k in enumerate(kept) if overlap(k.text, requirement.text) >= DUPLICATE_OVERLAP), None)
        if twin is None:
            kept.append(requirement)
            continue
        first = kept[twin]
        stronger = min(first.strength, requirement.strength, key=["must", "should", "may"].index)
        kept[twin] = first.model_copy(
            update={"reference": first.reference or requirement.reference, "strength": stronger}
        )
    return kept
