"""Locating a grader's quotes in our own page text.

Tolerance (stated in the README): case, whitespace (any run, including line breaks, matches any other),
quote marks and apostrophes, dashes, ligatures, and an ellipsis standing for omitted words between
parts that each appear, in order, on the same page. Nothing else: a quote with a changed word is
not found.

An elision cannot be used to change what the page says: each part must be substantial (MIN_PART_WORDS
words), the words left out between parts must not include a negation ("is ... used" does not verify
against "is never used"), and every part starts and ends on a word boundary ("able to delete" is not
found inside "unable to delete").
"""

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cached_property

from reviewer.cleanup import LIGATURES
from reviewer.documents import Document
from reviewer.review import Citation

MIN_QUOTE_CHARS = 12
MIN_PART_CHARS = 6
MIN_PART_WORDS = 3
MAX_ELISION_GAP = 600

_EQUIVALENTS = {
    **{c: "'" for c in "‘’‚‛′`´"},
    **{c: '"' for c in "“”„‟″«»"},
    **{c: "-" for c in "‐‑‒–—―−"},
    **LIGATURES,
    "\u00ad": "",
}
_ELLIPSIS = re.compile(r"\s*(?:\[\s*(?:\.\s*){3}\]|\.{3,}|…)\s*")
_TRIM = " \t\n\"'.,;:"
# On normalised (casefolded, straight-apostrophe) text.
_NEGATION = re.compile(r"\b(?:not|never|no|none|nothing|nobody|nowhere|neither|nor|without|cannot|\w+n't)\b")
_WORD = re.compile(r"\w+")
TOO_FEW_WORDS_NOTE = f"each part of an elided quote needs at least {MIN_PART_WORDS} words"
NEGATION_LEFT_OUT_NOTE = "the words the ellipsis leaves out include a negation"


@dataclass(frozen=True)
class NormalisedText:
    text: str
    origin: list[int]  # origin[i] = index in the source string of text[i]; one extra entry for the end

    @cached_property
    def negations(self) -> list[int]:
        """Start offsets of the negation words in the text, ascending."""
        return [m.start() for m in _NEGATION.finditer(self.text)]

    def negated_between(self, start: int, end: int) -> bool:
        i = bisect_left(self.negations, start)
        return i < len(self.negations) and self.negations[i] < end


def normalise(source: str) -> NormalisedText:
    chars: list[str] = []
    origin: list[int] = []
    pending_space = False
    for i, ch in enumerate(source):
        if ch.isspace():
            pending_space = bool(chars)
            continue
        mapped = _EQUIVALENTS.get(ch, ch).casefold()
        if not mapped:
            continue
        if pending_space:
            chars.append(" ")
            origin.append(i)
            pending_space = False
        for m in mapped:
            chars.append(m)
            origin.append(i)
    origin.append(len(source))
    return NormalisedText("".join(chars), origin)


def _normalised_parts(quote: str) -> list[str]:
    parts = [normalise(p.strip(_TRIM)).text for p in _ELLIPSIS.split(quote)]
    return [p for p in parts if p]


def _readings(quote: str) -> list[list[str]]:
    """The quote read literally, then, if it has an ellipsis, as parts with words left out between."""
    literal = normalise(quote.strip(_TRIM)).text
    elided = _normalised_parts(quote)
    return [[literal]] + ([elided] if elided != [literal] and elided else [])


def _on_word_boundaries(text: str, start: int, end: int) -> bool:
    """The match text[start:end] neither starts nor ends in the middle of a word."""
    cut_before = start > 0 and text[start - 1].isalnum() and text[start].isalnum()
    cut_after = end < len(text) and text[end - 1].isalnum() and text[end].isalnum()
    return not (cut_before or cut_after)


def _find_whole(text: str, part: str, start: int) -> int:
    """The first occurrence of part at or after start that lies on word boundaries; -1 if none."""
    while (at := text.find(part, start)) >= 0:
        if _on_word_boundaries(text, at, at + len(part)):
            return at
        start = at + 1
    return -1


def _find_parts(
    page: NormalisedText, parts: list[str], *, negation_may_be_left_out: bool = False
) -> tuple[int, int] | None:
    """Offsets in the normalised page of the first place where every part occurs in order, each on
    word boundaries, with no negation in the words left out between them.
    Linear in the page: each later part's search start only moves forward, so its next occurrence
    is looked up again only once the start has passed the one found before."""
    search_from = 0
    following = [-1] * len(parts)  # following[i]: an occurrence of parts[i] (-1: none looked up yet)
    while True:
        first = _find_whole(page.text, parts[0], search_from)
        if first < 0:
            return None
        end = first + len(parts[0])
        for i, part in enumerate(parts[1:], start=1):
            if following[i] < end:
                following[i] = _find_whole(page.text, part, end)
                if following[i] < 0:
                    return None  # not after this start, so not after any later one
            nxt = following[i]
            if nxt - end > MAX_ELISION_GAP:
                break
            if not negation_may_be_left_out and page.negated_between(end, nxt):
                break
            end = nxt + len(part)
        else:
            return first, end
        search_from = first + 1


@dataclass
class QuoteLocator:
    """Normalises each page once; locates any number of quotes against them."""

    document: Document

    def __post_init__(self) -> None:
        self._pages = {p.number: normalise(p.text) for p in self.document.pages}
        self._ocr_pages = {p.number for p in self.document.pages if p.ocr}

    def _locate_on(self, number: int, parts: list[str], **options: bool) -> tuple[int, int] | None:
        page = self._pages.get(number)
        found = _find_parts(page, parts, **options) if page else None
        if found is None:
            return None
        start, end = found
        return page.origin[start], page.origin[end - 1] + 1

    def locate(self, page: int, quote: str) -> Citation:
        long_enough = [
            parts
            for parts in _readings(quote)
            if sum(len(p) for p in parts) >= MIN_QUOTE_CHARS and all(len(p) >= MIN_PART_CHARS for p in parts)
        ]
        if not long_enough:
            return Citation(page=max(page, 1), quote=quote, verified=False, note="quote too short to verify")
        readings = [parts for parts in long_enough if len(parts) == 1 or all(map(_substantial, parts))]
        candidates = [page] + [n for n in self._pages if n != page]
        for number in candidates:
            span = next((s for parts in readings if (s := self._locate_on(number, parts)) is not None), None)
            if span is None:
                continue
            ocr = number in self._ocr_pages
            if number == page:
                return Citation(page=page, quote=quote, verified=True, start=span[0], end=span[1], ocr=ocr)
            return Citation(
                page=number,
                quote=quote,
                verified=True,
                start=span[0],
                end=span[1],
                cited_page=page,
                note=f"found on page {number}, not on page {page} as cited",
                ocr=ocr,
            )
        return Citation(page=max(page, 1), quote=quote, verified=False, note=self._why_not_found(long_enough, readings))

    def _why_not_found(self, long_enough: list[list[str]], readings: list[list[str]]) -> str:
        elided = [parts for parts in readings if len(parts) > 1]
        if any(self._locate_on(n, parts, negation_may_be_left_out=True) for parts in elided for n in self._pages):
            return NEGATION_LEFT_OUT_NOTE
        if len(readings) < len(long_enough):
            return TOO_FEW_WORDS_NOTE
        return "not found in the document"


def _substantial(part: str) -> bool:
    return len(_WORD.findall(part)) >= MIN_PART_WORDS
