"""Claude on Amazon Bedrock and Google Vertex AI, through the anthropic SDK's own platform clients.

Both platforms serve the Messages API, so these backends are the Anthropic backend with another
client, model id and wording: the same prompts, cache breakpoints, retries, validation and usage.
What differs:
- credentials come from the platform's own chain (AWS: environment, profile, SSO, roles, or a Bedrock
  API key in AWS_BEARER_TOKEN_BEDROCK; Google: Application Default Credentials), never our settings;
- a platform that refuses structured output (`output_config`) is asked again, from then on, with the
  schema in the prompt; answers are validated the same way and the review says so;
- Message Batches and token counting are not offered by the SDK's platform clients (--batch-api
  needs the anthropic backend);
- costs come from the Anthropic price table under the model's base name (anthropic.claude-x-v1:0 and
  claude-x@date price as claude-x) unless REVIEWER_PRICES lists the platform id itself.
"""

import copy
import json
import logging
import os
import re
from collections.abc import Callable
from typing import Any

import anthropic

from reviewer.config import Settings
from reviewer.egress import check_and_record
from reviewer.errors import ConfigurationError
from reviewer.grading.answers import GroupOutcome, GroupRequest
from reviewer.grading.anthropic_backend import AnthropicBackend, _api_error_message, checked_host, egress_http_client
from reviewer.grading.base import RawGrading
from reviewer.grading.prompts import GRADING_PROMPT, load_template
from reviewer.notices import ReviewWarning

log = logging.getLogger(__name__)

GOOGLE_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_PLATFORM_PREFIX = re.compile(r"^(?:[a-z]{2,6}\.)?anthropic\.")  # us.anthropic., global.anthropic., anthropic.
_PLATFORM_SUFFIX = re.compile(r"(?:@.*|-v\d+(?::\d+)?)$")
_DATE_SUFFIX = re.compile(r"-\d{8}$")


def base_model_name(model: str) -> str:
    """The Anthropic model name behind a platform id: anthropic.claude-sonnet-5-5-v1:0 -> claude-sonnet-5-5."""
    name = _PLATFORM_SUFFIX.sub("", _PLATFORM_PREFIX.sub("", model))
    return _DATE_SUFFIX.sub("", name)


def rejects_structured_output(exc: anthropic.APIStatusError) -> bool:
    text = _api_error_message(exc).lower()
    return exc.status_code in (400, 422) and any(k in text for k in ("output_config", "output_format", "json_schema"))


def schema_in_prompt(body: dict[str, Any]) -> dict[str, Any]:
    """The same request without `output_config`, the answer schema told in the task instead."""
    fallback = copy.deepcopy(body)
    schema = fallback.pop("output_config")["format"]["schema"]
    instruction = load_template(GRADING_PROMPT, "json_mode").substitute(
        schema=json.dumps(schema, separators=(",", ":"))
    )
    fallback["messages"][-1]["content"][-1]["text"] += f"\n\n{instruction}"
    return fallback


class CloudBackend(AnthropicBackend):
    """The Anthropic backend on a cloud platform's Messages endpoint."""

    def __init__(
        self,
        settings: Settings,
        *,
        name: str,
        provider: str,
        bad_credentials: str,
        model: str,
        client_factory: Callable[[Settings], Any],
    ) -> None:
        super().__init__(settings, model=model, client_factory=client_factory)
        self.name = name
        self.provider = provider
        self.bad_credentials = bad_credentials
        base = base_model_name(model)
        prices = settings.anthropic.prices
        self.price_model = model if model in prices or base not in prices else base
        self.structured_output = True  # False once the platform refused output_config

    async def send(self, client: anthropic.AsyncAnthropic, body: dict[str, Any]) -> anthropic.types.Message:
        if self.structured_output:
            try:
                return await client.messages.create(**body)
            except anthropic.BadRequestError as exc:
                if not rejects_structured_output(exc):
                    raise
                log.warning("%s refused structured output; asking with the schema in the prompt", self.provider)
                self.structured_output = False
        return await client.messages.create(**schema_in_prompt(body))

    def merge(
        self,
        requests: list[GroupRequest],
        outcomes: list[GroupOutcome],
        warnings: list[ReviewWarning],
        *,
        discounts: list[float] | None = None,
    ) -> RawGrading:
        grading = super().merge(requests, outcomes, warnings, discounts=discounts)
        if not self.structured_output:
            grading.warnings.append(
                ReviewWarning(
                    code="json_mode",
                    message=f"{self.provider} refused structured output (output_config) for {self.model}; answers "
                    "were asked for with the schema in the prompt, and validated",
                )
            )
        return grading


# --- Amazon Bedrock ---------------------------------------------------------------------------

BEDROCK_NO_CREDENTIALS = (
    "no AWS credentials for the bedrock backend: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
    "or a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK"
)


def _require(value: str | None, message: str, code: str) -> str:
    if not value:
        raise ConfigurationError(message, code=code)
    return value


def check_aws_credentials() -> None:
    """AWS credentials resolve (or a Bedrock API key is set) before anything is sent, with one clear line if not."""
    if os.environ.get("AWS_BEARER_TOKEN_BEDROCK"):
        return
    try:
        import boto3
        import botocore.exceptions
    except ImportError:
        raise ConfigurationError(
            "the bedrock backend signs requests with boto3: pip install 'reviewer[bedrock]' "
            "(or set a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK)",
            code="missing_dependency",
        ) from None
    try:
        credentials = boto3.Session().get_credentials()
    except botocore.exceptions.BotoCoreError as exc:
        raise ConfigurationError(f"AWS credentials could not be read: {exc}", code="missing_credentials") from None
    if credentials is None:
        raise ConfigurationError(BEDROCK_NO_CREDENTIALS, code="missing_credentials")


def make_bedrock_client(settings: Settings) -> anthropic.AsyncAnthropicBedrock:
    config = settings.bedrock
    options: dict[str, Any] = {
        "aws_region": config.region,
        "max_retries": settings.anthropic.sdk_max_retries,
        "timeout": settings.anthropic.request_timeout_seconds,
    }
    if config.base_url:
        options["base_url"] = config.base_url
    options["http_client"] = egress_http_client(settings, "bedrock", config.model)
    return checked_host(anthropic.AsyncAnthropicBedrock(**options), settings, "Amazon Bedrock")


def create_bedrock_backend(settings: Settings) -> CloudBackend:
    config = settings.bedrock
    _require(
        config.region, "no AWS region for the bedrock backend: set REVIEWER_BEDROCK_REGION (or AWS_REGION)", "no_region"
    )
    model = _require(
        config.model,
        "no model for the bedrock backend: set REVIEWER_BEDROCK_MODEL (e.g. anthropic.claude-sonnet-5-5-v1:0) "
        "or pass --model",
        "missing_model",
    )
    check_aws_credentials()
    return _with_client(
        CloudBackend(
            settings,
            name="bedrock",
            provider="Amazon Bedrock",
            bad_credentials="Amazon Bedrock rejected the AWS credentials: check AWS_PROFILE / AWS_ACCESS_KEY_ID, "
            "the region and the model access granted to them",
            model=model,
            client_factory=make_bedrock_client,
        )
    )


# --- Google Vertex AI -------------------------------------------------------------------------


def google_credentials(allowed_hosts: list[str] | None = None) -> Any:
    """Application Default Credentials, with one clear line when google-auth or the credentials are missing.
    Their token exchange goes through google-auth's own HTTP client, not the SDK's: it is checked against
    REVIEWER_ALLOWED_HOSTS and logged as egress (purpose `authentication`) like any other request."""
    try:
        import google.auth
        import google.auth.exceptions
    except ImportError:
        raise ConfigurationError(
            "the vertex backend needs google-auth: pip install 'reviewer[vertex]', then "
            "`gcloud auth application-default login` (or GOOGLE_APPLICATION_CREDENTIALS)",
            code="missing_dependency",
        ) from None
    try:
        credentials, _ = google.auth.default(scopes=GOOGLE_SCOPES)
    except google.auth.exceptions.DefaultCredentialsError:
        raise ConfigurationError(
            "no Google credentials for the vertex backend: run `gcloud auth application-default login` "
            "or set GOOGLE_APPLICATION_CREDENTIALS",
            code="missing_credentials",
        ) from None
    return _token_exchange_checked(credentials, allowed_hosts or [])


def _token_exchange_checked(credentials: Any, allowed_hosts: list[str]) -> Any:
    """`credentials` whose refresh sends its token request through check_and_record first."""
    refresh = credentials.refresh

    def checked_refresh(request: Any) -> None:
        def send(url: str, method: str = "GET", body: Any = None, headers: Any = None, **kwargs: Any) -> Any:
            check_and_record("vertex", url, method, body, allowed_hosts, purpose="authentication")
            return request(url, method=method, body=body, headers=headers, **kwargs)

        refresh(send)

    credentials.refresh = checked_refresh
    return credentials


def make_vertex_client(
    settings: Settings, *, access_token: str | None = None, credentials: Any = None
) -> anthropic.AsyncAnthropicVertex:
    config = settings.vertex
    options: dict[str, Any] = {
        "region": config.region,
        "project_id": config.project,
        "max_retries": settings.anthropic.sdk_max_retries,
        "timeout": settings.anthropic.request_timeout_seconds,
    }
    if access_token:
        options["access_token"] = access_token
    elif credentials is not None:
        options["credentials"] = credentials
    if config.base_url:
        options["base_url"] = config.base_url
    options["http_client"] = egress_http_client(settings, "vertex", config.model)
    return checked_host(anthropic.AsyncAnthropicVertex(**options), settings, "Google Vertex AI")


def create_vertex_backend(settings: Settings, *, access_token: str | None = None) -> CloudBackend:
    """The vertex backend; `access_token` (an OAuth token, as `gcloud auth print-access-token` prints)
    stands in for Application Default Credentials."""
    config = settings.vertex
    _require(
        config.project, "no Google Cloud project for the vertex backend: set REVIEWER_VERTEX_PROJECT", "no_project"
    )
    _require(config.region, "no region for the vertex backend: set REVIEWER_VERTEX_REGION (e.g. us-east5)", "no_region")
    model = _require(
        config.model,
        "no model for the vertex backend: set REVIEWER_VERTEX_MODEL (e.g. claude-sonnet-5-5@20260101) or pass --model",
        "missing_model",
    )
    credentials = None if access_token else google_credentials(settings.egress.allowed_hosts)
    return _with_client(
        CloudBackend(
            settings,
            name="vertex",
            provider="Google Vertex AI",
            bad_credentials="Google Vertex AI rejected the credentials: check `gcloud auth application-default login`, "
            "REVIEWER_VERTEX_PROJECT and the project's access to the model",
            model=model,
            client_factory=lambda s: make_vertex_client(s, access_token=access_token, credentials=credentials),
        )
    )


def _with_client(backend: CloudBackend) -> CloudBackend:
    """The backend with its client built, so a host REVIEWER_ALLOWED_HOSTS refuses is refused up front."""
    backend.client  # noqa: B018
    return backend
