"""Repeated page furniture: running headers and footers, page numbers, "Confidential" notices.

A line is furniture when, with its numbers normalised ("Page 3 of 12" reads as "page # of #"), it
stands among the first or last EDGE_LINES lines of most pages (MIN_SHARE of them, and at least
MIN_PAGES pages). Furniture is left out of passages and prompts; the page text keeps it, so a quote
of a footer still verifies.
"""

import math
import re
from collections import Counter

EDGE_LINES = 3
MIN_PAGES = 3
MIN_SHARE = 0.6
MAX_FURNITURE_CHARS = 160

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")

Span = tuple[int, int]


def _line_spans(text: str) -> list[Span]:
    spans, start = [], 0
    for line in text.split("\n"):
        if line.strip():
            spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _key(line: str) -> str:
    return _SPACES.sub(" ", _DIGITS.sub("#", line.casefold())).strip()


def _edges(text: str) -> tuple[list[Span], list[Span]]:
    spans = [s for s in _line_spans(text) if s[1] - s[0] <= MAX_FURNITURE_CHARS]
    lines = _line_spans(text)
    top = {s for s in lines[:EDGE_LINES]}
    bottom = {s for s in lines[-EDGE_LINES:]}
    return [s for s in spans if s in top], [s for s in spans if s in bottom]


def _numbers_are_page_numbers(key: tuple[str, str], pages: list[str], edges) -> bool:
    """A repeated line whose numbers change ("Page 3", "- 4 -") is furniture only if one of them follows
    the page number at a fixed offset; "Section 2" on one page and "Section 5" on the next is not."""
    zone, normalised = key
    if "#" not in normalised:
        return True
    offsets: set[int] | None = None
    texts = []
    for index, (text, (top, bottom)) in enumerate(zip(pages, edges, strict=True)):
        for s, e in top if zone == "top" else bottom:
            if _key(text[s:e]) == normalised:
                texts.append(text[s:e])
                here = {int(n) - index for n in _DIGITS.findall(text[s:e])}
                offsets = here if offsets is None else offsets & here
    return len(set(texts)) == 1 or bool(offsets)


def find_furniture(pages: list[str]) -> list[list[Span]]:
    """For each page, the character spans of its furniture lines (empty lists when there is none)."""
    if len(pages) < MIN_PAGES:
        return [[] for _ in pages]
    edges = [_edges(text) for text in pages]
    counts: Counter[tuple[str, str]] = Counter()
    for text, (top, bottom) in zip(pages, edges, strict=True):
        counts.update({("top", _key(text[s:e])) for s, e in top})
        counts.update({("bottom", _key(text[s:e])) for s, e in bottom})
    needed = max(MIN_PAGES, math.ceil(MIN_SHARE * len(pages)))
    candidates = {key for key, n in counts.items() if n >= needed and key[1]}
    repeated = {key for key in candidates if _numbers_are_page_numbers(key, pages, edges)}
    found = []
    for text, (top, bottom) in zip(pages, edges, strict=True):
        spans = {s for s in top if ("top", _key(text[s[0] : s[1]])) in repeated}
        spans |= {s for s in bottom if ("bottom", _key(text[s[0] : s[1]])) in repeated}
        found.append(sorted(spans))
    return found


def without_furniture(text: str, furniture: list[Span]) -> str:
    """The page's text with its furniture lines taken out (for prompts)."""
    if not furniture:
        return text
    parts, cursor = [], 0
    for start, end in furniture:
        parts.append(text[cursor:start])
        cursor = end
    parts.append(text[cursor:])
    return re.sub(r"\n{3,}", "\n\n", "".join(parts)).strip()
