"""A page's text cut into segments at the verified quotes' offsets, so a renderer can mark each quote
where it is (overlapping quotes included) without ever putting the document's text into markup itself."""

from itertools import pairwise

from pydantic import BaseModel, Field


class Span(BaseModel):
    id: str
    start: int
    end: int


class Segment(BaseModel):
    text: str
    marks: list[str] = Field(default_factory=list, description="The spans this text is part of.")
    anchors: list[str] = Field(default_factory=list, description="The spans that begin here.")


def placeable(span: Span, length: int) -> bool:
    """Whether the offsets fall inside a text of this length (a re-read text may differ from the graded one)."""
    return 0 <= span.start < span.end <= length


def segments(text: str, spans: list[Span]) -> list[Segment]:
    """The text in order, cut at every span's start and end; spans that do not fit the text are left out."""
    kept = [s for s in spans if placeable(s, len(text))]
    cuts = sorted({0, len(text), *(s.start for s in kept), *(s.end for s in kept)})
    found = []
    for start, end in pairwise(cuts):
        found.append(
            Segment(
                text=text[start:end],
                marks=[s.id for s in kept if s.start <= start and end <= s.end],
                anchors=[s.id for s in kept if s.start == start],
            )
        )
    return found or [Segment(text=text)]
