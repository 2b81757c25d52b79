"""The Anthropic (Claude) backend.

Call structure: the rubric's criteria are split into a few groups (criteria_per_call each). Every call
shares one prefix, system prompt + page-marked document, marked with a cache breakpoint; the first
call writes the cache, the others then run concurrently (bounded) and read it. For nine criteria in
two groups that bills about 1.25 + 0.1 = 1.35x the input of a single uncached pass, while each
answer stays short enough to be careful about every criterion.
"""

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

import anthropic
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt, wait_fixed

from reviewer.config import Settings
from reviewer.documents import Document
from reviewer.egress import check_host, event_hooks
from reviewer.errors import ConfigurationError
from reviewer.grading.answers import (
    GradingAnswer,
    GroupOutcome,
    GroupRequest,
    InvalidAnswer,
    answer_json_schema,
    document_prompts,
    parse_answer,
    split_into_groups,
)
from reviewer.grading.base import CriterionFailure, RawGrading
from reviewer.grading.prompts import GRADING_PROMPT, render_system, render_task
from reviewer.notices import ReviewWarning
from reviewer.redact import redact, secrets_of
from reviewer.review import Grade, Usage
from reviewer.rubric import Criterion, Rubric

log = logging.getLogger(__name__)

MISSING_KEY_MESSAGE = (
    "no Anthropic API key: set ANTHROPIC_API_KEY in the environment or in .env, or use --backend offline"
)


def answer_schema(rubric: Rubric) -> dict[str, Any]:
    """The answer schema as the Messages API's structured output accepts it. The schema is the same for
    every call on this rubric, so it does not break the shared cache prefix."""
    return anthropic.transform_schema(answer_json_schema(rubric))


def usage_of(message: anthropic.types.Message) -> Usage:
    u = message.usage
    return Usage(
        calls=1,
        input_tokens=u.input_tokens,
        output_tokens=u.output_tokens,
        cache_read_input_tokens=u.cache_read_input_tokens or 0,
        cache_creation_input_tokens=u.cache_creation_input_tokens or 0,
    )


def estimate_cost(usage: Usage, model: str, settings: Settings) -> float | None:
    price = settings.anthropic.prices.get(model)
    if price is None:
        return None
    billed_input = (
        usage.input_tokens
        + settings.anthropic.cache_write_multiplier * usage.cache_creation_input_tokens
        + settings.anthropic.cache_read_multiplier * usage.cache_read_input_tokens
    )
    return round((billed_input * price.input + usage.output_tokens * price.output) / 1_000_000, 6)


def validate_answer(
    message: anthropic.types.Message, expected_ids: list[str], allowed_grades: list[Grade]
) -> GradingAnswer:
    if message.stop_reason == "max_tokens":
        raise InvalidAnswer("the answer was truncated (max_tokens reached)")
    if message.stop_reason == "refusal":
        raise InvalidAnswer("the model refused to answer")
    text = "".join(block.text for block in message.content if block.type == "text")
    return parse_answer(text, expected_ids, allowed_grades)


class AnthropicBackend:
    """Claude through the Messages API. Bedrock and Vertex AI (grading/cloud.py) reuse it whole with
    their own client, model id and wording: the SDK's platform clients speak the same Messages API."""

    name = "anthropic"
    offline = False
    provider = "the Anthropic API"  # how errors name the upstream
    bad_credentials = "the Anthropic API rejected the API key: check ANTHROPIC_API_KEY"

    def __init__(
        self,
        settings: Settings,
        client: anthropic.AsyncAnthropic | None = None,
        *,
        model: str | None = None,
        client_factory: Callable[[Settings], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.model = model or settings.anthropic.model
        self.price_model = self.model  # the key in the price table (platform model ids differ)
        self._client = client
        self._client_factory = client_factory or make_client

    @property
    def client(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            self._client = self._client_factory(self.settings)
        return self._client

    def build_requests(self, document: Document, rubric: Rubric) -> tuple[list[GroupRequest], list[ReviewWarning]]:
        """One Messages API request per group of criteria, and any warnings about what was sent."""
        system = render_system(rubric)
        schema = answer_schema(rubric)
        groups = split_into_groups(rubric.criteria, self.settings.grading.criteria_per_call)
        warnings: list[ReviewWarning] = []
        prompts = self._document_prompts(document, groups, warnings)
        requests = []
        for group, (document_block, note) in zip(groups, prompts, strict=True):
            task = f"{note}\n\n{render_task(group)}" if note else render_task(group)
            body = {
                "model": self.model,
                "max_tokens": self.settings.anthropic.max_output_tokens,
                "system": system,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": document_block, "cache_control": {"type": "ephemeral"}},
                            {"type": "text", "text": task},
                        ],
                    }
                ],
                "output_config": {"format": {"type": "json_schema", "schema": schema}},
            }
            requests.append(GroupRequest(criterion_ids=[c.id for c in group], body=body))
        return requests, warnings

    async def grade(self, document: Document, rubric: Rubric) -> RawGrading:
        # rendering the document (and, past the budget, indexing its passages) is CPU work: off the loop
        requests, warnings = await asyncio.to_thread(self.build_requests, document, rubric)
        limit = asyncio.Semaphore(self.settings.grading.concurrency)

        async def run(request: GroupRequest) -> GroupOutcome:
            async with limit:
                return await self.run_request(request, rubric.grades)

        # The first call writes the cache entry; the rest fan out only once it exists.
        outcomes = [await run(requests[0])]
        outcomes += await asyncio.gather(*(run(r) for r in requests[1:]))
        return self.merge(requests, outcomes, warnings)

    def merge(
        self,
        requests: list[GroupRequest],
        outcomes: list[GroupOutcome],
        warnings: list[ReviewWarning],
        *,
        discounts: list[float] | None = None,
    ) -> RawGrading:
        """One document's grading from its groups' outcomes; cost from the price table, each outcome at
        its own discount (message batches bill at half price)."""
        grading = RawGrading(model=self.model, prompt_version=GRADING_PROMPT, warnings=list(warnings))
        for request, outcome in zip(requests, outcomes, strict=True):
            grading.usage += outcome.usage
            if outcome.answer is None:
                grading.failures += [
                    CriterionFailure(criterion_id=cid, reason=outcome.failure or "") for cid in request.criterion_ids
                ]
                continue
            grading.findings += outcome.answer.findings
            grading.injection_reports += outcome.answer.injection_attempts
            grading.vendor_name = grading.vendor_name or outcome.answer.vendor_name
        discounts = discounts or [1.0] * len(outcomes)
        costs = [estimate_cost(o.usage, self.price_model, self.settings) for o in outcomes]
        cost = None if any(c is None for c in costs) else sum(c * d for c, d in zip(costs, discounts, strict=True))
        grading.usage.estimated_cost_usd = round(cost or 0.0, 6)
        if cost is None:
            grading.warnings.append(
                ReviewWarning(
                    code="no_price", message=f"no price configured for model {self.model}; cost not estimated"
                )
            )
        return grading

    def _document_prompts(
        self, document: Document, groups: list[list[Criterion]], warnings: list[ReviewWarning]
    ) -> list[tuple[str, str]]:
        return document_prompts(document, groups, self.settings, warnings)

    async def run_request(self, request: GroupRequest, allowed_grades: list[Grade]) -> "GroupOutcome":
        """Send one group's request, asking again (bounded) while the answer is invalid."""
        client = self.client
        expected = request.criterion_ids
        usage = Usage()
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.settings.grading.answer_attempts),
                retry=retry_if_exception_type(InvalidAnswer),
                wait=wait_fixed(0),
                reraise=False,
            ):
                with attempt:
                    message = await self.send(client, request.body)
                    usage += usage_of(message)
                    try:
                        answer = validate_answer(message, expected, allowed_grades)
                    except InvalidAnswer as exc:
                        log.warning(
                            "invalid answer for %s (attempt %d): %s",
                            expected,
                            attempt.retry_state.attempt_number,
                            exc,
                        )
                        raise
            return GroupOutcome(answer=answer, usage=usage)
        except RetryError as exc:
            reason = str(exc.last_attempt.exception())
            return GroupOutcome(
                usage=usage, failure=f"no valid answer after {self.settings.grading.answer_attempts} attempts: {reason}"
            )
        except anthropic.AuthenticationError:
            raise ConfigurationError(self.bad_credentials, code="bad_api_key") from None
        except anthropic.APIStatusError as exc:
            log.warning(
                "%s error %d for %s: %s",
                self.provider,
                exc.status_code,
                expected,
                redact(_api_error_message(exc), secrets_of(self.settings)),
            )
            return GroupOutcome(usage=usage, failure=upstream_failure(exc, self.provider))
        except anthropic.APIConnectionError as exc:
            return GroupOutcome(usage=usage, failure=f"could not reach {self.provider}: {type(exc).__name__}")

    async def send(self, client: anthropic.AsyncAnthropic, body: dict[str, Any]) -> anthropic.types.Message:
        return await client.messages.create(**body)


def _api_error_body(exc: anthropic.APIStatusError) -> dict[str, Any]:
    body = exc.body if isinstance(exc.body, dict) else {}
    return body.get("error") if isinstance(body.get("error"), dict) else {}


def _api_error_message(exc: anthropic.APIStatusError) -> str:
    """The upstream's own text: for logs, redacted; never kept in a review (a gateway may echo the request)."""
    return str(_api_error_body(exc).get("message") or exc.message)


UPSTREAM_STATUS_WORDING = {
    400: "refused the request as invalid",
    401: "rejected the API key",
    403: "refused access",
    404: "does not know the model or endpoint",
    408: "timed out",
    413: "refused the request as too large",
    429: "is rate limiting us",
    500: "had an internal error",
    502: "was unreachable behind its gateway",
    503: "was unavailable",
    504: "timed out behind its gateway",
    529: "was overloaded",
}
_ERROR_TYPE = re.compile(r"^[a-z][a-z_]{2,40}$")


def upstream_failure(exc: anthropic.APIStatusError, provider: str = "the Anthropic API") -> str:
    """Our own words for an upstream error: the status code, what it means and the error type when it is a
    plain identifier (overloaded_error); never the upstream's message."""
    status = exc.status_code
    wording = UPSTREAM_STATUS_WORDING.get(status) or ("had an error" if status >= 500 else "refused the request")
    kind = _api_error_body(exc).get("type")
    detail = f", {kind}" if isinstance(kind, str) and _ERROR_TYPE.match(kind) else ""
    return f"{provider} {wording} (HTTP {status}{detail})"


def egress_http_client(settings: Settings, provider: str, model: str | None) -> anthropic.DefaultAsyncHttpxClient:
    """The SDK's own default HTTP client, with the egress hook: every request recorded, none to a host
    REVIEWER_ALLOWED_HOSTS does not list (reviewer.egress)."""
    return anthropic.DefaultAsyncHttpxClient(event_hooks=event_hooks(provider, model, settings.egress.allowed_hosts))


def checked_host(client: Any, settings: Settings, provider: str) -> Any:
    """The client, once the host its base URL names (as the SDK resolved it) is allowed."""
    check_host(client.base_url.host, settings.egress.allowed_hosts, provider)
    return client


def make_client(settings: Settings) -> anthropic.AsyncAnthropic:
    if not settings.has_api_key:
        raise ConfigurationError(MISSING_KEY_MESSAGE, code="missing_api_key")
    options: dict[str, Any] = {
        "api_key": settings.anthropic.api_key.get_secret_value(),
        "max_retries": settings.anthropic.sdk_max_retries,
        "timeout": settings.anthropic.request_timeout_seconds,
        "http_client": egress_http_client(settings, "anthropic", settings.anthropic.model),
    }
    if settings.anthropic.base_url:
        options["base_url"] = settings.anthropic.base_url
    return checked_host(anthropic.AsyncAnthropic(**options), settings, "the Anthropic API")


def create_backend(settings: Settings) -> AnthropicBackend:
    if not settings.has_api_key:
        raise ConfigurationError(MISSING_KEY_MESSAGE, code="missing_api_key")
    backend = AnthropicBackend(settings)
    backend.client  # noqa: B018 -- built now, so a host REVIEWER_ALLOWED_HOSTS refuses is refused up front
    return backend
