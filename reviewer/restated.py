"""Text that restates the rubric is not evidence of a commitment.

The default rubric is public; a proposal that copies its `met` guidance would otherwise match it
perfectly. A passage restates a criterion when most of its word trigrams occur in that criterion's
title, description or guidance (met, partial or red flag), or, for a short passage, most of its words do.
"""

import re
from functools import lru_cache

from reviewer.rubric import Criterion, Rubric

RESTATED_SHINGLE_SHARE = 0.6
RESTATED_WORD_SHARE = 0.85
SHORT_PASSAGE_WORDS = 6

_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


@lru_cache(maxsize=256)
def _vocabulary(texts: tuple[str, ...]) -> tuple[frozenset[str], frozenset[tuple[str, ...]]]:
    words = [_words(t) for t in texts]
    return frozenset(w for ws in words for w in ws), frozenset(s for ws in words for s in _shingles(ws))


def restates_criterion(text: str, criterion: Criterion) -> bool:
    words = _words(text)
    if not words:
        return False
    g = criterion.guidance
    vocabulary, shingles = _vocabulary((criterion.title, criterion.description, g.met, g.partial or "", g.red_flag))
    if len(words) < SHORT_PASSAGE_WORDS:
        return sum(w in vocabulary for w in words) / len(words) >= RESTATED_WORD_SHARE
    own = _shingles(words)
    return len(own & shingles) / len(own) >= RESTATED_SHINGLE_SHARE


def restates_rubric(text: str, rubric: Rubric) -> bool:
    """Whether the passage mostly repeats the rubric's own wording for any of its criteria."""
    return any(restates_criterion(text, c) for c in rubric.criteria)
