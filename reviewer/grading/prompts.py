"""Prompt templates live in prompts/<name>/<version>/ and are rendered here. The version a review used
is recorded in it, so a change of wording is a new version, never a silent edit."""

from pathlib import Path
from string import Template

from reviewer.documents import Document
from reviewer.injection import neutralise_markup
from reviewer.rubric import Criterion, Rubric

GRADING_PROMPT = "grading/v2"  # v2: v1 and a note on the placeholders of a masked document (masked.md)

_PACKAGED = Path(__file__).resolve().parent.parent / "_prompts"
_SOURCE_TREE = Path(__file__).resolve().parent.parent.parent / "prompts"


def prompts_dir() -> Path:
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE_TREE


def load_template(version: str, name: str) -> Template:
    return Template((prompts_dir() / version / f"{name}.md").read_text(encoding="utf-8"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_criterion(criterion: Criterion, version: str = GRADING_PROMPT) -> str:
    return load_template(version, "criterion").substitute(
        id=criterion.id,
        title=criterion.title,
        kind=criterion.kind.value,
        weight=f"{criterion.weight:g}",
        description=_one_line(criterion.description),
        met=_one_line(criterion.guidance.met),
        partial=_one_line(criterion.guidance.partial or "(this rubric does not use partial)"),
        red_flag=_one_line(criterion.guidance.red_flag),
    )


def render_system(rubric: Rubric, version: str = GRADING_PROMPT) -> str:
    return load_template(version, "system").substitute(
        rubric_title=rubric.title,
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        grades=", ".join(f"`{g.value}`" for g in rubric.grades),
        criteria="\n\n".join(render_criterion(c, version) for c in rubric.criteria),
    )


def render_document(document: Document, pages: list[int] | None = None) -> str:
    wanted = set(pages) if pages is not None else None
    name = neutralise_markup(document.file_name).replace('"', "'")
    parts = [f'<document file_name="{name}" pages="{document.page_count}">']
    for page in document.pages:
        if wanted is not None and page.number not in wanted:
            continue
        parts.append(f'<page number="{page.number}">\n{neutralise_markup(page.content)}\n</page>')
    parts.append("</document>")
    return "\n".join(parts)


def render_masked_note(document: Document, version: str = GRADING_PROMPT) -> str:
    """What the model is told about the placeholders that stand for hidden names (reviewer/masking.py); ''
    for a document sent as it is."""
    if not document.placeholders:
        return ""
    vendor = document.vendor_placeholder
    return load_template(version, "masked").substitute(
        placeholders=", ".join(document.placeholders),
        vendor_sentence=f" ({vendor} is the company that submitted the proposal; give it as `vendor_name`)"
        if vendor
        else "",
    )


def render_task(criteria: list[Criterion], version: str = GRADING_PROMPT) -> str:
    listing = "\n".join(f"- `{c.id}`: {c.title}" for c in criteria)
    return load_template(version, "task").substitute(criteria_list=listing)
