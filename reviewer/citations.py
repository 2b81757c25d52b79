"""Locating a grader's quotes in our own page text.

Tolerance (stated in the README): case, whitespace (any run, including line breaks, matches any other),
quote marks and apostrophes, dashes, ligatures, and an ellipsis standing for omitted words between
parts that each appear, in order, on the same page. Nothing else: a quote with a changed word is
not found.
"""

import re
from dataclasses import dataclass

from reviewer.cleanup import LIGATURES
from reviewer.documents import Document
from reviewer.review import Citation

MIN_QUOTE_CHARS = 12
MIN_PART_CHARS = 6
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


@dataclass(frozen=True)
class NormalisedText:
    text: str
    origin: list[int]  # origin[i] = index in the source string of text[i]; one extra entry for the end


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


def _find_parts(page: NormalisedText, parts: list[str]) -> tuple[int, int] | None:
    """Offsets in the normalised page of the first place where every part occurs in order.
    Linear in the page: each later part's search start only moves forward, so its next occurrence
    is looked up again only once the start has passed the one found before."""
    search_from = 0
    following = [-1] * len(parts)  # following[i]: an occurrence of parts[i] (-1: none looked up yet)
    while True:
        first = page.text.find(parts[0], search_from)
        if first < 0:
            return None
        end = first + len(parts[0])
        for i, part in enumerate(parts[1:], start=1):
            if following[i] < end:
                following[i] = page.text.find(part, end)
                if following[i] < 0:
                    return None  # not after this start, so not after any later one
            nxt = following[i]
            if nxt - end > MAX_ELISION_GAP:
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

    def _locate_on(self, number: int, parts: list[str]) -> tuple[int, int] | None:
        page = self._pages.get(number)
        found = _find_parts(page, parts) if page else None
        if found is None:
            return None
        start, end = found
        return page.origin[start], page.origin[end - 1] + 1

    def locate(self, page: int, quote: str) -> Citation:
        readings = [
            parts
            for parts in _readings(quote)
            if sum(len(p) for p in parts) >= MIN_QUOTE_CHARS and all(len(p) >= MIN_PART_CHARS for p in parts)
        ]
        if not readings:
            return Citation(page=max(page, 1), quote=quote, verified=False, note="quote too short to verify")
        candidates = [page] + [n for n in self._pages if n != page]
        for number in candidates:
            span = next((s for parts in readings if (s := self._locate_on(number, parts)) is not None), None)
            if span is None:
                continue
            if number == page:
                return Citation(page=page, quote=quote, verified=True, start=span[0], end=span[1])
            return Citation(
                page=number,
                quote=quote,
                verified=True,
                start=span[0],
                end=span[1],
                cited_page=page,
                note=f"found on page {number}, not on page {page} as cited",
            )
        return Citation(page=max(page, 1), quote=quote, verified=False, note="not found in the document")
