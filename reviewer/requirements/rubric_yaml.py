"""A rubric drawn from an RFP as YAML a person edits before use: written by hand, not by a YAML dumper,
so every criterion carries a comment naming its source, and long texts are folded to read easily."""

import json
import textwrap
from typing import Any

import yaml

from reviewer.rubric import Criterion, Rubric, parse_rubric

WIDTH = 100
FOLD_OVER = 60


class _Plain(str):
    """A word written unquoted (an enum value)."""


def _scalar(value: str, indent: int) -> str:
    """A string as YAML: double-quoted when short (JSON strings are valid YAML), folded when long."""
    flat = " ".join(value.split())
    if len(flat) <= FOLD_OVER:
        return json.dumps(flat, ensure_ascii=False)
    pad = " " * indent
    lines = textwrap.wrap(flat, WIDTH - indent, break_long_words=False, break_on_hyphens=False)
    return ">-\n" + "\n".join(pad + line for line in lines)


def _comment(text: str, indent: int) -> list[str]:
    pad = " " * indent
    return [f"{pad}# {line}" for line in textwrap.wrap(" ".join(text.split()), WIDTH - indent - 2)]


def _source_comment(criterion: Criterion, merged_from: str | None) -> str:
    if criterion.source_page is None:
        return f"From the rubric '{merged_from}' (not in the RFP)." if merged_from else "Added by hand."
    ref = f" {criterion.reference}" if criterion.reference else ""
    strength = f" [{criterion.strength}{', mandatory' if criterion.mandatory else ''}]" if criterion.strength else ""
    return f"RFP p.{criterion.source_page}{ref}{strength}: '{criterion.source_quote}'"


def _group_comments(criterion: Criterion) -> list[str]:
    """A grouped criterion's comment: how its strength was set, then each member's source."""
    strengths = [m.strength for m in criterion.members]
    pages = sorted({m.page for m in criterion.members})
    where = f"p.{pages[0]}" if len(pages) == 1 else f"pp.{pages[0]}-{pages[-1]}"
    weaker = sorted({s for s in strengths if s != criterion.strength}, key=strengths.index)
    mixed = (
        f" Its {' and '.join(repr(s) for s in weaker)} members are weighed as '{criterion.strength}' here."
        if weaker
        else ""
    )
    lines = _comment(
        f"A group of {len(criterion.members)} closely related RFP requirements ({where}), graded as one "
        f"criterion. Its strength is its strongest member's ({criterion.strength}"
        f"{', mandatory' if criterion.mandatory else ''}; members: {', '.join(strengths)}), and so is its "
        f"weight.{mixed} Split it (one criterion per member, as without --group) to weigh them apart.",
        2,
    )
    for i, member in enumerate(criterion.members, start=1):
        ref = f" {member.reference}" if member.reference else ""
        lines += _comment(f"({i}) RFP p.{member.page}{ref} [{member.strength}]: '{member.quote}'", 2)
    return lines


def _criterion_lines(criterion: Criterion, merged_from: str | None) -> list[str]:
    grouped = bool(criterion.members)
    lines = _group_comments(criterion) if grouped else _comment(_source_comment(criterion, merged_from), 2)
    lines.append(f"  - id: {criterion.id}")
    fields: list[tuple[str, object]] = [
        ("title", criterion.title),
        ("kind", _Plain(criterion.kind.value)),
        ("weight", criterion.weight),
        ("reference", criterion.reference),
        ("strength", _Plain(criterion.strength) if criterion.strength else None),
        ("mandatory", criterion.mandatory if criterion.strength else None),
        ("source_page", criterion.source_page),
        ("source_quote", criterion.source_quote),
        ("description", criterion.description),
    ]
    for key, value in fields:
        if value is None:
            continue
        if isinstance(value, _Plain):
            lines.append(f"    {key}: {value}")
        elif isinstance(value, bool):
            lines.append(f"    {key}: {'true' if value else 'false'}")
        elif isinstance(value, float):
            lines.append(f"    {key}: {int(value) if value.is_integer() else value}")
        elif isinstance(value, int):
            lines.append(f"    {key}: {value}")
        else:
            lines.append(f"    {key}: {_scalar(str(value), 6)}")
    lines.append("    guidance:")
    for key in ("met", "partial", "red_flag"):
        value = getattr(criterion.guidance, key)
        if value is not None:
            lines.append(f"      {key}: {_scalar(value, 8)}")
    if criterion.keywords:
        lines.append(f"    keywords: [{', '.join(json.dumps(k, ensure_ascii=False) for k in criterion.keywords)}]")
    if criterion.question:
        lines.append(f"    question: {_scalar(criterion.question, 6)}")
    if criterion.members:
        lines.append("    members:")
    for member in criterion.members:
        lines.append(f"      - reference: {json.dumps(member.reference) if member.reference else 'null'}")
        lines.append(f"        strength: {member.strength}")
        lines.append(f"        page: {member.page}")
        lines.append(f"        text: {_scalar(member.text, 10)}")
        lines.append(f"        quote: {_scalar(member.quote, 10)}")
    return lines


def rubric_yaml(rubric: Rubric, *, header: list[str], merged_from: str | None = None) -> str:
    """The rubric as commented YAML; checked to load back into the same rubric before it is returned."""
    lines = [f"# {line}" if line else "#" for line in header]
    lines += [
        f"id: {rubric.id}",
        f"version: {json.dumps(rubric.version)}",
        f"title: {_scalar(rubric.title, 2)}",
        f"description: {_scalar(rubric.description, 2)}",
        f"grades: [{', '.join(g.value for g in rubric.grades)}]",
        "criteria:",
    ]
    for criterion in rubric.criteria:
        lines.append("")
        lines += _criterion_lines(criterion, merged_from if criterion.source_page is None else None)
    text = "\n".join(lines) + "\n"
    loaded = parse_rubric(yaml.safe_load(text), "generated rubric")
    if _flat(loaded.model_dump()) != _flat(rubric.model_dump()):
        raise AssertionError("the written rubric does not load back as the same rubric")
    return text


def _flat(value: Any) -> Any:
    """Strings with their whitespace runs made single spaces: what folding keeps of a text."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return {k: _flat(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_flat(v) for v in value]
    return value
