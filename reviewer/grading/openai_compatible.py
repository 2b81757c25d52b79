"""The OpenAI-compatible backend: any server speaking `POST {base_url}/chat/completions` (vLLM,
llama.cpp's server, Ollama, LM Studio, LiteLLM, Azure OpenAI, OpenAI itself). With a local server no
document leaves the machine.

Same call structure, prompts and answer validation as the Anthropic backend (grading/answers.py):
criteria split into groups, the first call alone (servers with prefix caching then reuse the shared
system + document prefix), the rest concurrently under a bound. The answer is asked for with
`response_format: json_schema` (strict); a server that answers 400 to that is asked again, from then
on, in JSON mode with the schema in the prompt, and the review says so. Transport errors (429 with
its Retry-After, 5xx, connection errors) are retried here with backoff; invalid, refused or truncated
answers are asked again (tenacity), then reported per criterion as errors, never graded.
"""

import asyncio
import contextlib
import copy
import email.utils
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx2
from pydantic import BaseModel, Field, ValidationError
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt, wait_fixed

from reviewer.config import OpenAISettings, Settings
from reviewer.documents import Document
from reviewer.egress import check_host, event_hooks
from reviewer.errors import ConfigurationError
from reviewer.grading.answers import (
    GroupOutcome,
    GroupRequest,
    InvalidAnswer,
    answer_json_schema,
    document_prompts,
    parse_answer,
    split_into_groups,
)
from reviewer.grading.base import CriterionFailure, RawGrading
from reviewer.grading.prompts import GRADING_PROMPT, load_template, render_system, render_task
from reviewer.notices import ReviewWarning
from reviewer.redact import redact, secrets_of
from reviewer.review import Grade, Usage
from reviewer.rubric import Rubric

log = logging.getLogger(__name__)

MISSING_BASE_URL = (
    "no OpenAI-compatible endpoint: set REVIEWER_OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1 for Ollama, "
    "http://127.0.0.1:8000/v1 for vLLM)"
)
MISSING_MODEL = "no model for the openai_compatible backend: set REVIEWER_OPENAI_MODEL or pass --model"
RETRYABLE_STATUSES = {408, 409, 429}
MAX_RETRY_AFTER_SECONDS = 120.0


class ChatMessage(BaseModel):
    content: str | None = None
    refusal: str | None = None


class ChatChoice(BaseModel):
    message: ChatMessage
    finish_reason: str | None = None


class ChatUsage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ChatCompletion(BaseModel):
    """The part of a chat completion we read; servers add more, which is ignored."""

    choices: list[ChatChoice] = Field(min_length=1)
    usage: ChatUsage | None = None


class EndpointError(Exception):
    """The server refused the request for good (after any retries)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def chat_url(base_url: str) -> str:
    """`{base_url}/chat/completions`; a bare host (no path) gets the conventional /v1."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"REVIEWER_OPENAI_BASE_URL must be an http(s) URL such as http://127.0.0.1:8000/v1, not {base_url!r}",
            code="bad_base_url",
        )
    path = parts.path.rstrip("/") or "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}/chat/completions"


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The answer schema as strict structured output accepts it: every object closed
    (additionalProperties false, every property required) and no `default` keywords."""

    def visit(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: visit(v) for k, v in node.items() if k != "default"}
            if "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            return node
        if isinstance(node, list):
            return [visit(v) for v in node]
        return node

    return visit(schema)


def json_mode_body(body: dict[str, Any]) -> dict[str, Any]:
    """The same request for a server without json_schema: JSON mode, with the schema told in the prompt."""
    schema = body["response_format"]["json_schema"]["schema"]
    fallback = copy.deepcopy(body)
    fallback["response_format"] = {"type": "json_object"}
    instruction = load_template(GRADING_PROMPT, "json_mode").substitute(
        schema=json.dumps(schema, separators=(",", ":"))
    )
    fallback["messages"][-1]["content"] += f"\n\n{instruction}"
    return fallback


def says_json_schema_unsupported(response: httpx2.Response) -> bool:
    text = response.text.lower()
    return response.status_code in (400, 422) and ("json_schema" in text or "response_format" in text)


def retry_after_seconds(response: httpx2.Response) -> float | None:
    """What the server asked us to wait: retry-after-ms, or Retry-After in seconds or as an HTTP date."""
    headers = response.headers
    with contextlib.suppress(ValueError):
        if "retry-after-ms" in headers:
            return min(float(headers["retry-after-ms"]) / 1000, MAX_RETRY_AFTER_SECONDS)
        if "retry-after" in headers:
            value = headers["retry-after"].strip()
            try:
                seconds = float(value)
            except ValueError:
                when = email.utils.parsedate_to_datetime(value)
                seconds = when.timestamp() - time.time()
            return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
    return None


def answer_text(completion: ChatCompletion) -> str:
    """The answer's text, or InvalidAnswer for a refusal, a truncated or filtered or empty answer."""
    choice = completion.choices[0]
    if choice.message.refusal:
        raise InvalidAnswer(f"the model refused to answer: {choice.message.refusal[:200]}")
    if choice.finish_reason == "length":
        raise InvalidAnswer("the answer was truncated (max_tokens reached)")
    if choice.finish_reason == "content_filter":
        raise InvalidAnswer("the server's content filter stopped the answer")
    text = (choice.message.content or "").strip()
    if not text:
        raise InvalidAnswer("the answer was empty")
    if text.startswith("```"):  # JSON mode on some local models still fences the object
        text = text.split("\n", 1)[-1].rsplit("```", 1)[0]
    return text


def usage_of(completion: ChatCompletion) -> Usage:
    usage = completion.usage or ChatUsage()
    return Usage(calls=1, input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens)


def _error_message(response: httpx2.Response) -> str:
    with contextlib.suppress(ValueError):
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
        if isinstance(error, str):
            return error[:200]
    return response.reason_phrase or f"HTTP {response.status_code}"


class OpenAICompatibleBackend:
    name = "openai_compatible"
    offline = False

    def __init__(
        self, settings: Settings, *, http: httpx2.AsyncClient | None = None, retry_base_seconds: float = 0.5
    ) -> None:
        config = settings.openai
        if not config.base_url:
            raise ConfigurationError(MISSING_BASE_URL, code="missing_base_url")
        if not config.model:
            raise ConfigurationError(MISSING_MODEL, code="missing_model")
        self.settings = settings
        self.config: OpenAISettings = config
        self.model: str = config.model
        self.url = chat_url(config.base_url)
        self.host = urlsplit(self.url).netloc
        check_host(httpx2.URL(self.url).host, settings.egress.allowed_hosts, "the OpenAI-compatible endpoint")
        self.retry_base_seconds = retry_base_seconds
        self.json_schema_supported = True  # False once the server said it lacks json_schema
        self._http = http

    def build_requests(self, document: Document, rubric: Rubric) -> tuple[list[GroupRequest], list[ReviewWarning]]:
        system = render_system(rubric)
        schema = strict_schema(answer_json_schema(rubric))
        groups = split_into_groups(rubric.criteria, self.settings.grading.criteria_per_call)
        warnings: list[ReviewWarning] = []
        prompts = document_prompts(document, groups, self.settings, warnings)
        requests = []
        for group, (document_block, note) in zip(groups, prompts, strict=True):
            task = f"{note}\n\n{render_task(group)}" if note else render_task(group)
            body = {
                "model": self.model,
                "max_tokens": self.config.max_output_tokens,
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": f"{document_block}\n\n{task}"},
                ],
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "grading_answer", "schema": schema, "strict": True},
                },
            }
            requests.append(GroupRequest(criterion_ids=[c.id for c in group], body=body))
        return requests, warnings

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx2.AsyncClient]:
        if self._http is not None:
            yield self._http
            return
        hooks = event_hooks(self.name, self.model, self.settings.egress.allowed_hosts)
        async with httpx2.AsyncClient(timeout=self.config.request_timeout_seconds, event_hooks=hooks) as http:
            yield http

    async def grade(self, document: Document, rubric: Rubric) -> RawGrading:
        requests, warnings = await asyncio.to_thread(self.build_requests, document, rubric)
        limit = asyncio.Semaphore(self.settings.grading.concurrency)
        async with self._client() as http:

            async def run(request: GroupRequest) -> GroupOutcome:
                async with limit:
                    return await self.run_request(http, request, rubric.grades)

            outcomes = [await run(requests[0])]  # the shared prefix is in the server's cache before the rest
            outcomes += await asyncio.gather(*(run(r) for r in requests[1:]))
        return self.merge(requests, outcomes, warnings)

    def merge(
        self, requests: list[GroupRequest], outcomes: list[GroupOutcome], warnings: list[ReviewWarning]
    ) -> RawGrading:
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
        price = self.config.prices.get(self.model)
        if price is None:
            grading.warnings.append(
                ReviewWarning(
                    code="no_price",
                    message=f"no price configured for model {self.model} (REVIEWER_OPENAI_PRICES); cost unknown, "
                    "shown as 0",
                )
            )
        else:
            u = grading.usage
            grading.usage.estimated_cost_usd = round(
                (u.input_tokens * price.input + u.output_tokens * price.output) / 1_000_000, 6
            )
        if not self.json_schema_supported:
            grading.warnings.append(
                ReviewWarning(
                    code="json_mode",
                    message=f"the server at {self.host} does not support structured output (json_schema); answers "
                    "were asked for in JSON mode with the schema in the prompt, and validated",
                )
            )
        return grading

    async def run_request(
        self, http: httpx2.AsyncClient, request: GroupRequest, allowed_grades: list[Grade]
    ) -> GroupOutcome:
        """Send one group's request, asking again (bounded) while the answer is invalid."""
        expected = request.criterion_ids
        usage = Usage()
        attempts = self.settings.grading.answer_attempts
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(attempts),
                retry=retry_if_exception_type(InvalidAnswer),
                wait=wait_fixed(0),
                reraise=False,
            ):
                with attempt:
                    completion = await self.complete(http, request.body)
                    usage += usage_of(completion)
                    try:
                        answer = parse_answer(answer_text(completion), expected, allowed_grades)
                    except InvalidAnswer as exc:
                        log.warning(
                            "invalid answer for %s (attempt %d): %s", expected, attempt.retry_state.attempt_number, exc
                        )
                        raise
            return GroupOutcome(answer=answer, usage=usage)
        except RetryError as exc:
            reason = str(exc.last_attempt.exception())
            return GroupOutcome(usage=usage, failure=f"no valid answer after {attempts} attempts: {reason}")
        except EndpointError as exc:
            kept = redact(exc.message, secrets_of(self.settings))  # a gateway may echo the request
            return GroupOutcome(usage=usage, failure=f"{self.host} answered {exc.status}: {kept}")
        except httpx2.TransportError as exc:
            return GroupOutcome(usage=usage, failure=f"could not reach {self.host}: {type(exc).__name__}")

    async def complete(self, http: httpx2.AsyncClient, body: dict[str, Any]) -> ChatCompletion:
        """One chat completion, retrying what is transient (429 after its Retry-After, 408/409/5xx,
        connection errors) up to max_retries times with exponential backoff."""
        headers = {"content-type": "application/json"}
        if self.config.api_key is not None:
            headers["authorization"] = f"Bearer {self.config.api_key.get_secret_value()}"
        retries = 0
        while True:
            sent = body if self.json_schema_supported else json_mode_body(body)
            try:
                response = await http.post(self.url, json=sent, headers=headers)
            except httpx2.TransportError as exc:
                if retries >= self.config.max_retries:
                    raise
                retries += 1
                log.warning("%s unreachable (%s), retry %d", self.host, type(exc).__name__, retries)
                await asyncio.sleep(self._backoff(retries))
                continue
            status = response.status_code
            if self.json_schema_supported and says_json_schema_unsupported(response):
                log.warning("%s lacks json_schema structured output; using JSON mode", self.host)
                self.json_schema_supported = False
                continue
            if (status in RETRYABLE_STATUSES or status >= 500) and retries < self.config.max_retries:
                retries += 1
                wait = retry_after_seconds(response)
                log.warning("%s answered %d, retry %d", self.host, status, retries)
                await asyncio.sleep(self._backoff(retries) if wait is None else wait)
                continue
            if status in (401, 403):
                raise ConfigurationError(
                    f"{self.host} refused the credentials ({status}): check REVIEWER_OPENAI_API_KEY",
                    code="bad_api_key",
                )
            if status >= 400:
                raise EndpointError(status, _error_message(response))
            try:
                return ChatCompletion.model_validate_json(response.content)
            except ValidationError:
                raise InvalidAnswer("the server's response was not a chat completion") from None

    def _backoff(self, retry: int) -> float:
        return min(self.retry_base_seconds * 2 ** (retry - 1), 30.0)


def create_backend(settings: Settings) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(settings)
