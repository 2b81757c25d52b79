import re
from pathlib import Path

import pytest
from pydantic import AliasChoices, ValidationError

from reviewer.cli import main
from reviewer.config import GROUPS, Settings, locate_env_file

ROOT = Path(__file__).resolve().parent.parent


def test_empty_values_from_an_env_file_count_as_unset(monkeypatch):
    for name in ("REVIEWER_DATABASE_URL", "REVIEWER_RUBRICS_DIR", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"):
        monkeypatch.setenv(name, "")
    settings = Settings.load()
    assert settings.storage.database_url is None and settings.storage.rubrics_dir is None
    assert settings.anthropic.base_url is None and not settings.has_api_key
    assert settings.storage.resolved_database_url.startswith("sqlite:///")


def test_api_keys_are_comma_separated_or_json(monkeypatch):
    monkeypatch.setenv("REVIEWER_API_KEYS", "first-key-0123456789, second-key-0123456789")
    assert [k.get_secret_value() for k in Settings.load().api.keys] == [
        "first-key-0123456789",
        "second-key-0123456789",
    ]
    monkeypatch.setenv("REVIEWER_API_KEYS", '["json-key-0123456789"]')
    assert len(Settings.load().api.keys) == 1


@pytest.mark.parametrize("key", ["changeme", "short-key"])
def test_placeholder_or_short_api_keys_are_refused(monkeypatch, key):
    monkeypatch.setenv("REVIEWER_API_KEYS", key)
    with pytest.raises(ValidationError):
        Settings.load()


def test_secrets_do_not_appear_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret-value")
    monkeypatch.setenv("REVIEWER_API_KEYS", "api-key-very-secret-0123")
    text = repr(Settings.load())
    assert "very-secret" not in text


def test_settings_are_grouped_and_earlier_releases_names_still_read(monkeypatch):
    monkeypatch.setenv("REVIEWER_API_WORKER_CONCURRENCY", "7")
    monkeypatch.setenv("REVIEWER_EXTRACTION_PROCESSES", "3")
    monkeypatch.setenv("REVIEWER_PUBLIC_BASE_URL", "https://old.example")
    monkeypatch.setenv("REVIEWER_MODEL", "claude-haiku-5-5")
    monkeypatch.setenv("REVIEWER_SLACK_RUBRIC", "team")
    monkeypatch.setenv("REVIEWER_INGEST_MAX_PAGES", "9")
    settings = Settings.load()
    assert settings.jobs.workers == 7 and settings.ingest.processes == 3
    assert settings.api.public_base_url == "https://old.example"
    assert settings.anthropic.model == "claude-haiku-5-5" and settings.slack.rubric == "team"
    assert settings.ingest.max_pages == 9
    monkeypatch.setenv("REVIEWER_JOB_WORKERS", "2")
    assert Settings.load().jobs.workers == 2
    with pytest.raises(ValidationError):
        Settings(api_keys=["x" * 20])  # a flat name from before the groups is refused, not ignored


def _env_names(group, field_name, field) -> set[str]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return {str(choice).upper() for choice in alias.choices}
    return {(group.env_prefix + field_name).upper()}


def test_every_setting_is_listed_in_env_example():
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))
    missing = [
        f"{name}.{field_name}"
        for name, group in GROUPS.items()
        for field_name, field in group.model_fields.items()
        if not _env_names(group, field_name, field) & listed
    ]
    assert missing == []


def test_a_dotenv_in_the_current_directory_is_not_read(tmp_path, monkeypatch, capsys):
    # a folder of vendor files may carry a .env: it must not redirect the key or open the server
    (tmp_path / ".env").write_text("ANTHROPIC_BASE_URL=https://evil.example\nREVIEWER_MODEL=evil\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert locate_env_file() is None
    settings = Settings.load(locate_env_file())
    assert settings.anthropic.base_url is None and settings.anthropic.model == "claude-sonnet-5-5"


def test_the_env_file_comes_from_the_flag_the_variable_or_the_config_directory(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config" / "reviewer"
    config.mkdir(parents=True)
    (config / ".env").write_text("REVIEWER_MODEL=from-config-dir\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert Settings.load(locate_env_file()).anthropic.model == "from-config-dir"

    chosen = tmp_path / "team.env"
    chosen.write_text("REVIEWER_MODEL=from-variable\n")
    monkeypatch.setenv("REVIEWER_ENV_FILE", str(chosen))
    assert locate_env_file() == chosen
    assert Settings.load(locate_env_file()).anthropic.model == "from-variable"
    monkeypatch.setenv("REVIEWER_MODEL", "from-environment")
    assert Settings.load(locate_env_file()).anthropic.model == "from-environment"  # the environment wins

    flag = tmp_path / "flag.env"
    flag.write_text("REVIEWER_SLACK_RUBRIC=from-flag\n")
    assert locate_env_file(flag) == flag


def test_the_cli_says_which_env_file_it_read_and_refuses_a_missing_one(tmp_path, monkeypatch, capsys):
    env = tmp_path / "team.env"
    env.write_text("REVIEWER_BACKEND=offline\n")
    assert main(["--env-file", str(env), "rubrics"]) == 0
    assert f"settings read from {env}" in capsys.readouterr().err
    assert main(["--env-file", str(tmp_path / "nope.env"), "rubrics"]) == 2
    err = capsys.readouterr().err
    assert "nope.env does not exist" in err and err.count("\n") == 1
