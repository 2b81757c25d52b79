"""Spotting text in a proposal that tries to instruct the reviewer. Applied to every review whatever
the backend, beside what a model itself reports: such passages are reported, and never count as
evidence.

Proposals talk about AI, models and evaluation all the time, so the cues are about addressing the
reader, not about the topic: an override of instructions, a note to an AI or automated reviewer, or
a request that this very proposal be graded a certain way.
"""

import re

from reviewer.documents import Document
from reviewer.passages import Passage, split_passages

_READER = (
    r"(?:ai|a\.i\.|llm|large language model|language model|assistant|chatbot|gpt|claude|model|automated|"
    r"machine|review(?:er|ing)? (?:system|tool|model)|reviewer|evaluator|grader|scorer)s?"
)
_OVERRIDE = re.compile(
    r"(?<!not )(?<!never )\b(?:ignore|disregard|forget|override|bypass|set aside)\s+(?:all\s+|any\s+)?(?:of\s+)?"
    r"(?:(?:the|your|these|those|previous|prior|above|earlier|other|existing|original)\s+)+(?:[\w-]+\s+){0,2}"
    r"(?:instructions?|prompts?|rules|guidelines|guidance|criteria|rubric|checklist|system message)\b",
    re.IGNORECASE,
)
_ADDRESSING_READER = re.compile(
    rf"\b(?:(?:note|message|instructions?|attention|memo)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?"
    rf"(?:{_READER}\s*)+|if\s+you\s+are\s+(?:an?\s+)?(?:{_READER}\s*)+|dear\s+(?:{_READER}\s*)+|"
    rf"(?:ai|llm|automated)\s+(?:reviewers?|evaluators?|graders?|systems?|assistants?)\s*[,:])",
    re.IGNORECASE,
)
_SELF_GRADING = re.compile(
    r"\b(?:grade|rate|score|mark|classify|treat|record|evaluate|assess|consider)\b[^.]{0,40}?"
    r"\b(?:this|the|our)\s+(?:proposal|document|submission|response|bid|vendor|section|company)\b[^.]{0,60}?"
    r"\b(?:as|with|at)\s+[\"'“]?(?:met|fully met|compliant|fully compliant|passing|pass|highest|maximum|top|"
    r"perfect|full marks|excellent|10/10|100|red[_ ]flag-free|meeting all)",
    re.IGNORECASE,
)


def looks_like_injection(text: str) -> bool:
    return bool(_OVERRIDE.search(text) or _ADDRESSING_READER.search(text) or _SELF_GRADING.search(text))


def find_injection_passages(document: Document, passages: list[Passage] | None = None) -> list[Passage]:
    candidates = passages if passages is not None else split_passages(document)
    return [p for p in candidates if looks_like_injection(p.text)]
