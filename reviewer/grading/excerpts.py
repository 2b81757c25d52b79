"""Long proposals: instead of the whole text, send each group of criteria the passages most relevant
to it (with their neighbours, under their real page numbers). Retrieval is the offline grader's."""

from reviewer.documents import Document
from reviewer.grading.offline import CriterionQuery
from reviewer.grading.prompts import neutralise_markup
from reviewer.passages import Passage
from reviewer.retrieval import BM25Index
from reviewer.rubric import Criterion

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def select_passages(
    criteria: list[Criterion], passages: list[Passage], index: BM25Index, per_criterion: int, neighbours: int = 1
) -> list[Passage]:
    """The top passages for each criterion plus `neighbours` on either side, in document order."""
    chosen: set[int] = set()
    for criterion in criteria:
        for hit in index.search(CriterionQuery(criterion).terms, top_k=per_criterion):
            chosen.update(range(max(0, hit.index - neighbours), min(len(passages), hit.index + neighbours + 1)))
    return [passages[i] for i in sorted(chosen)]


def render_excerpts(document: Document, selected: list[Passage], all_passages: list[Passage]) -> str:
    name = neutralise_markup(document.file_name).replace('"', "'")
    position = {id(p): i for i, p in enumerate(all_passages)}
    parts = [f'<document file_name="{name}" pages="{document.page_count}" excerpts="true">']
    previous: Passage | None = None
    for passage in selected:
        if previous is None or passage.page != previous.page:
            if previous is not None:
                parts.append("</page>")
            parts.append(f'<page number="{passage.page}">')
        elif position[id(passage)] != position[id(previous)] + 1:
            parts.append("[...]")
        parts.append(neutralise_markup(passage.text))
        previous = passage
    if previous is not None:
        parts.append("</page>")
    parts.append("</document>")
    return "\n".join(parts)
