"""What a Claude review would cost, before paying for it: the real requests are built (no key, no
network) and their tokens estimated at 4 characters each, as the backend's budget check does.

Input is exact up to that estimate: the system prompt and document form the cached prefix (written
once, then read by the other calls of the review; in excerpt mode each call's excerpts are their own
prefix, written once), the task is sent uncached. Output cannot be known in advance; it is assumed at
OUTPUT_TOKENS_PER_CRITERION, a finding with a rationale, up to three quotes and a question.
"""

import json

from pydantic import BaseModel

from reviewer.config import Settings
from reviewer.documents import Document
from reviewer.grading.anthropic_backend import AnthropicBackend, estimate_cost
from reviewer.grading.anthropic_batch import BATCH_DISCOUNT
from reviewer.grading.excerpts import estimate_tokens
from reviewer.review import Usage
from reviewer.rubric import Rubric

OUTPUT_TOKENS_PER_CRITERION = 220


class CostEstimate(BaseModel):
    model: str
    documents: int
    usage: Usage
    cost_usd: float | None
    batch_cost_usd: float | None
    output_tokens_per_criterion: int = OUTPUT_TOKENS_PER_CRITERION

    def __add__(self, other: "CostEstimate") -> "CostEstimate":
        def add(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else round(a + b, 6)

        return self.model_copy(
            update={
                "documents": self.documents + other.documents,
                "usage": self.usage + other.usage,
                "cost_usd": add(self.cost_usd, other.cost_usd),
                "batch_cost_usd": add(self.batch_cost_usd, other.batch_cost_usd),
            }
        )


def empty_estimate(settings: Settings) -> CostEstimate:
    cost = 0.0 if settings.anthropic.model in settings.anthropic.prices else None
    return CostEstimate(model=settings.anthropic.model, documents=0, usage=Usage(), cost_usd=cost, batch_cost_usd=cost)


def estimate_review(document: Document, rubric: Rubric, settings: Settings) -> CostEstimate:
    requests, _ = AnthropicBackend(settings).build_requests(document, rubric)
    usage = Usage()
    prefixes_written: set[str] = set()
    for request in requests:
        system = request.body["system"]
        cached_block, task_block = request.body["messages"][0]["content"]
        prefix = system + cached_block["text"]
        prefix_tokens = estimate_tokens(prefix)
        schema_tokens = estimate_tokens(json.dumps(request.body["output_config"]))
        first_use = prefix not in prefixes_written
        prefixes_written.add(prefix)
        usage += Usage(
            calls=1,
            input_tokens=estimate_tokens(task_block["text"]) + schema_tokens,
            output_tokens=OUTPUT_TOKENS_PER_CRITERION * len(request.criterion_ids),
            cache_creation_input_tokens=prefix_tokens if first_use else 0,
            cache_read_input_tokens=0 if first_use else prefix_tokens,
        )
    cost = estimate_cost(usage, settings.anthropic.model, settings)
    usage = usage.model_copy(update={"estimated_cost_usd": cost or 0.0})
    return CostEstimate(
        model=settings.anthropic.model,
        documents=1,
        usage=usage,
        cost_usd=cost,
        batch_cost_usd=None if cost is None else round(cost * BATCH_DISCOUNT, 6),
    )


def describe(estimate: CostEstimate) -> str:
    u = estimate.usage
    money = (
        f"~${estimate.cost_usd:.2f} (~${estimate.batch_cost_usd:.2f} at Message Batches prices)"
        if estimate.cost_usd is not None
        else "cost unknown: no price configured for this model"
    )
    return (
        f"estimate for {estimate.documents} documents with {estimate.model}: {u.calls} calls, "
        f"~{u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens:,} input tokens "
        f"({u.cache_read_input_tokens:,} of them cache reads), ~{u.output_tokens:,} output tokens "
        f"(assumed {estimate.output_tokens_per_criterion} per criterion); {money}. Nothing was sent."
    )
