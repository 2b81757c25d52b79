"""One Settings object, read once from the environment (and an optional .env file), then passed in."""

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_KEYS = {"", "changeme", "change-me", "your-key-here", "sk-ant-...", "sk-ant-xxx"}


class ModelPrice(BaseModel):
    """US dollars per million tokens."""

    input: float
    output: float


DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-sonnet-5-5": ModelPrice(input=2.0, output=10.0),
    "claude-haiku-5-5": ModelPrice(input=1.0, output=5.0),
    "claude-opus-5-5": ModelPrice(input=5.0, output=25.0),
}


class IngestLimits(BaseModel):
    max_file_bytes: int = 50 * 1024 * 1024
    max_pages: int = 500
    timeout_seconds: float = 60.0
    memory_bytes: int = 2 * 1024 * 1024 * 1024
    # Text, counted after extraction: a few KB of PDF can hold millions of characters (issue 13).
    # A dense page holds ~5,000; the document limit is ~750 k tokens, far past any model's window.
    max_page_chars: int = Field(default=200_000, ge=1)
    max_document_chars: int = Field(default=3_000_000, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REVIEWER_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
    )

    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "REVIEWER_ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "REVIEWER_ANTHROPIC_BASE_URL")
    )

    backend: Literal["auto", "anthropic", "offline"] = "auto"
    model: str = "claude-sonnet-5-5"
    max_output_tokens: int = Field(default=16000, ge=256)
    sdk_max_retries: int = Field(default=4, ge=0, le=10)
    answer_attempts: int = Field(default=3, ge=1, le=6)
    request_timeout_seconds: float = Field(default=300.0, gt=0)
    concurrency: int = Field(default=4, ge=1, le=64)
    criteria_per_call: int = Field(default=5, ge=1)
    document_token_budget: int = Field(default=60_000, ge=1_000)
    excerpt_passages_per_criterion: int = Field(default=8, ge=1)
    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    cache_write_multiplier: float = 1.25
    cache_read_multiplier: float = 0.1

    ingest: IngestLimits = Field(default_factory=IngestLimits)

    data_dir: Path = Path("data")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir")
    rubrics_dir: Path | None = Field(default=None, description="extra rubric files the API and CLI may use")
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    api_worker_concurrency: int = Field(default=4, ge=1, le=256)
    extraction_processes: int = Field(default=2, ge=1, le=64)
    job_lease_seconds: float = Field(default=60.0, gt=0)
    job_max_attempts: int = Field(default=3, ge=1)
    job_poll_seconds: float = Field(default=1.0, gt=0)
    batch_poll_seconds: float = Field(default=30.0, gt=0)
    wait_timeout_seconds: float = Field(default=120.0, ge=0)
    public_base_url: str = "http://127.0.0.1:8000"
    log_format: Literal["text", "json"] = Field(default="text", description="the server's log lines: text or JSON")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_base_url: str = "https://slack.com/api/"
    slack_rubric: str = "default"

    @field_validator("anthropic_api_key")
    @classmethod
    def _refuse_placeholder_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value().strip().lower() in PLACEHOLDER_KEYS:
            return None
        return value

    @field_validator(
        "database_url", "rubrics_dir", "anthropic_base_url", "slack_bot_token", "slack_signing_secret", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _comma_separated_keys(cls, value: object) -> object:
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                return json.loads(stripped)
            return [k.strip() for k in stripped.split(",") if k.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _refuse_placeholder_api_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        for key in value:
            if key.get_secret_value().strip().lower() in PLACEHOLDER_KEYS or len(key.get_secret_value()) < 16:
                raise ValueError("API keys must be at least 16 characters and not a placeholder")
        return value

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and self.slack_signing_secret is not None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'reviewer.db').resolve()}"

    @property
    def has_api_key(self) -> bool:
        return self.anthropic_api_key is not None
