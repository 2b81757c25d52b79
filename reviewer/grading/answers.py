"""What every LLM backend asks a model for and accepts back, whatever the provider: the answer model and
its JSON schema, how criteria are split into calls, what each call is shown, and the validation every
answer passes before the pipeline verifies it."""

import math
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from reviewer.config import Settings
from reviewer.documents import Document
from reviewer.grading.base import InjectionReport, RawFinding
from reviewer.grading.excerpts import estimate_tokens, render_excerpts, select_passages
from reviewer.grading.offline import index_document
from reviewer.grading.prompts import GRADING_PROMPT, load_template, render_document, render_masked_note
from reviewer.notices import ReviewWarning
from reviewer.review import Grade, Usage
from reviewer.rubric import Criterion, Rubric


class GradingAnswer(BaseModel):
    """What the model must return for one group of criteria."""

    findings: list[RawFinding]
    injection_attempts: list[InjectionReport] = Field(default_factory=list)
    vendor_name: str | None = None


class GroupRequest(BaseModel):
    """One model call: the criteria it grades and its request body."""

    criterion_ids: list[str]
    body: dict[str, Any]


class GroupOutcome(BaseModel):
    answer: GradingAnswer | None = None
    usage: Usage = Field(default_factory=Usage)
    failure: str | None = None


class InvalidAnswer(Exception):
    """The model answered, but not with something we can use; worth asking again."""


def answer_json_schema(rubric: Rubric) -> dict[str, Any]:
    """GradingAnswer's JSON schema with criterion_id restricted to the rubric's ids. The schema is the
    same for every call on this rubric, so it does not break the shared cache prefix."""
    schema = GradingAnswer.model_json_schema()
    schema["$defs"]["RawFinding"]["properties"]["criterion_id"]["enum"] = rubric.criterion_ids
    schema["$defs"]["Grade"]["enum"] = [g.value for g in rubric.grades]
    for definition in [schema, *schema["$defs"].values()]:
        if "properties" in definition:  # the model always writes every field (null where empty)
            definition["required"] = list(definition["properties"])
    return schema


def split_into_groups(criteria: list[Criterion], per_call: int) -> list[list[Criterion]]:
    """As few groups as per_call allows, sizes differing by at most one: 9 at 5 per call -> 5 + 4."""
    count = max(1, math.ceil(len(criteria) / per_call))
    base, extra = divmod(len(criteria), count)
    groups, start = [], 0
    for i in range(count):
        size = base + (1 if i < extra else 0)
        groups.append(criteria[start : start + size])
        start += size
    return groups


def parse_answer(text: str, expected_ids: list[str], allowed_grades: list[Grade]) -> GradingAnswer:
    """The answer text as a GradingAnswer with exactly one finding per expected id, in allowed grades;
    any provider's answer goes through here."""
    try:
        answer = GradingAnswer.model_validate_json(text)
    except ValidationError as exc:
        raise InvalidAnswer(f"the answer did not match the schema ({exc.error_count()} errors)") from None
    got = [f.criterion_id for f in answer.findings]
    unknown = sorted(set(got) - set(expected_ids))
    missing = [i for i in expected_ids if i not in got]
    duplicated = sorted({i for i in got if got.count(i) > 1})
    disallowed = sorted({f.grade.value for f in answer.findings} - {g.value for g in allowed_grades})
    if unknown or missing or duplicated or disallowed:
        problems = []
        if disallowed:
            problems.append(f"grades the rubric does not use {disallowed}")
        if unknown:
            problems.append(f"unknown criterion ids {unknown}")
        if missing:
            problems.append(f"no finding for {missing}")
        if duplicated:
            problems.append(f"more than one finding for {duplicated}")
        raise InvalidAnswer("; ".join(problems))
    return answer


def document_prompts(
    document: Document, groups: list[list[Criterion]], settings: Settings, warnings: list[ReviewWarning]
) -> list[tuple[str, str]]:
    """Per group: the document block and a note for the task. The whole page-marked document for
    all groups when it fits the token budget; otherwise each group's own excerpts."""
    masked_note = render_masked_note(document)
    whole = render_document(document)
    whole_tokens = estimate_tokens(whole)
    if whole_tokens <= settings.grading.document_token_budget:
        return [(whole, masked_note)] * len(groups)
    passages, index = index_document(document)
    excerpts_note = load_template(GRADING_PROMPT, "excerpts").substitute(document_tokens=f"{whole_tokens:,}")
    note = f"{masked_note}\n\n{excerpts_note}" if masked_note else excerpts_note
    prompts = []
    for group in groups:
        selected = select_passages(group, passages, index, settings.grading.excerpt_passages_per_criterion)
        prompts.append((render_excerpts(document, selected, passages), note))
    sent = sum(estimate_tokens(block) for block, _ in prompts)
    warnings.append(
        ReviewWarning(
            code="excerpts_only",
            message=f"the document (~{whole_tokens:,} tokens) exceeds the budget of "
            f"{settings.grading.document_token_budget:,}; the model saw only the passages most relevant "
            f"to each criterion (~{sent:,} tokens in all). A criterion addressed elsewhere may be graded missing.",
        )
    )
    return prompts
