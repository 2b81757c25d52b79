import pytest
from pydantic import ValidationError

from reviewer.config import Settings


def test_empty_values_from_an_env_file_count_as_unset(monkeypatch):
    for name in ("REVIEWER_DATABASE_URL", "REVIEWER_RUBRICS_DIR", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"):
        monkeypatch.setenv(name, "")
    settings = Settings(_env_file=None)
    assert settings.database_url is None and settings.rubrics_dir is None
    assert settings.anthropic_base_url is None and not settings.has_api_key
    assert settings.resolved_database_url.startswith("sqlite:///")


def test_api_keys_are_comma_separated_or_json(monkeypatch):
    monkeypatch.setenv("REVIEWER_API_KEYS", "first-key-0123456789, second-key-0123456789")
    assert [k.get_secret_value() for k in Settings(_env_file=None).api_keys] == [
        "first-key-0123456789",
        "second-key-0123456789",
    ]
    monkeypatch.setenv("REVIEWER_API_KEYS", '["json-key-0123456789"]')
    assert len(Settings(_env_file=None).api_keys) == 1


@pytest.mark.parametrize("key", ["changeme", "short-key"])
def test_placeholder_or_short_api_keys_are_refused(monkeypatch, key):
    monkeypatch.setenv("REVIEWER_API_KEYS", key)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_secrets_do_not_appear_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret-value")
    monkeypatch.setenv("REVIEWER_API_KEYS", "api-key-very-secret-0123")
    text = repr(Settings(_env_file=None))
    assert "very-secret" not in text
