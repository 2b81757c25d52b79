"""Splitting a Document into sentence-sized passages with page and character offsets, so anything
that cites a passage cites text that is verbatim in the page."""

import re
from dataclasses import dataclass
from itertools import pairwise

from reviewer.documents import Document

MAX_PASSAGE_CHARS = 500
MIN_PASSAGE_CHARS = 20
HEADING_MAX_WORDS = 8
HEADING_MAX_TITLE_WORDS = 12

_BLOCK_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-•*▪●◦]|\d{1,2}[.)]|[a-z][.)])\s)")
_SECTION_NUMBER = re.compile(
    r"(?:(?:section|annex|appendix|schedule|part|chapter)\s+)?(?:\d{1,2}|[A-Z])(?:\.\d{1,2})*[.)]?\s", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class Passage:
    page: int
    start: int
    end: int
    text: str


def _spans(text: str, pattern: re.Pattern[str], base: int = 0) -> list[tuple[int, int]]:
    spans, cursor = [], 0
    for match in pattern.finditer(text):
        spans.append((base + cursor, base + match.start()))
        cursor = match.end()
    spans.append((base + cursor, base + len(text)))
    return spans


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Break a passage longer than MAX_PASSAGE_CHARS at line breaks, then hard at the limit."""
    if end - start <= MAX_PASSAGE_CHARS:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    for s, e in _spans(text[start:end], re.compile(r"\n"), start):
        while e - s > MAX_PASSAGE_CHARS:
            cut = text.rfind(" ", s, s + MAX_PASSAGE_CHARS)
            cut = cut if cut > s else s + MAX_PASSAGE_CHARS
            pieces.append((s, cut))
            s = cut
        pieces.append((s, e))
    return pieces


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _block_breaks(text: str, furniture: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Blocks of a page: split at blank lines, list items, and after heading-like lines (a line clearly
    shorter than the page's longest, with no closing punctuation, followed by a capitalised line).
    Furniture lines (running headers, footers, page numbers) are breaks: they are in no block."""
    lines = text.split("\n")
    longest = max((len(line) for line in lines), default=0)
    breaks: list[tuple[int, int]] = list(furniture)
    offset = 0
    for line, following in pairwise(lines):
        offset += len(line)
        stripped = line.rstrip()
        if (
            stripped
            and len(stripped) < 0.7 * longest
            and stripped[-1] not in ".,;:-–—"
            and following[:1].isupper() | following[:1].isdigit()
        ):
            breaks.append((offset, offset + 1))
        offset += 1
    for match in _BLOCK_BREAK.finditer(text):
        breaks.append((match.start(), match.end()))
    spans, cursor = [], 0
    for start, end in sorted(breaks):
        if start >= cursor:
            spans.append((cursor, start))
            cursor = end
    spans.append((cursor, len(text)))
    return spans


def split_passages(document: Document) -> list[Passage]:
    passages: list[Passage] = []
    for page in document.pages:
        text = page.text
        for block_start, block_end in _block_breaks(text, page.furniture):
            for s, e in _spans(text[block_start:block_end], _SENTENCE_END, block_start):
                for ps, pe in _split_long(text, s, e):
                    ps, pe = _trimmed(text, ps, pe)
                    if pe - ps >= MIN_PASSAGE_CHARS:
                        passages.append(Passage(page=page.number, start=ps, end=pe, text=text[ps:pe]))
    return passages


def _title_cased(words: list[str]) -> bool:
    """Every longer word capitalised, as in 'Monitoring and Retraining'; a sentence has lower-case words."""
    long_words = [w.strip("()[]\"'“”‘’,.:;") for w in words]
    long_words = [w for w in long_words if len(w) >= 4 and w[:1].isalpha()]
    return bool(long_words) and all(w[:1].isupper() for w in long_words)


def is_heading(passage: Passage) -> bool:
    """A title: it names a topic and states nothing. Either a few words not ended like a sentence, or a
    title-cased line (every longer word capitalised, at most a closing period or colon), or a numbered
    section title ('B.6 Monitoring and Retraining.', '3. Data Protection')."""
    text = " ".join(passage.text.split())
    words = text.split()
    if len(words) < HEADING_MAX_WORDS and not text.endswith((".", ";", ":", "!", "?")):
        return True
    if text.endswith((";", "!", "?")) or len(words) > HEADING_MAX_TITLE_WORDS:
        return False
    numbered = _SECTION_NUMBER.match(text)
    rest = words[len(numbered.group(0).split()) :] if numbered else words
    return bool(rest) and _title_cased(rest)
