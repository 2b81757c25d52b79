"""Settings groups read from the environment and a .env file (reviewer.env_settings)."""

from typing import Annotated

import pytest
from pydantic import AliasChoices, BaseModel, Field, ValidationError, field_validator

from reviewer.env_settings import EnvGroup, NoDecode


class Price(BaseModel):
    input: float


class Example(EnvGroup):
    env_prefix = "EXAMPLE_"

    count: int = 1
    ratio: float | None = None
    prices: dict[str, Price] = Field(default_factory=dict)
    names: Annotated[list[str], NoDecode] = Field(default_factory=list)
    url: str = Field(default="default", validation_alias=AliasChoices("EXAMPLE_URL", "OLD_URL"))

    @field_validator("names", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return [v.strip() for v in value.split(",")] if isinstance(value, str) else value


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in ("EXAMPLE_COUNT", "EXAMPLE_RATIO", "EXAMPLE_PRICES", "EXAMPLE_NAMES", "EXAMPLE_URL", "OLD_URL"):
        monkeypatch.delenv(name, raising=False)


def test_fields_are_read_from_prefixed_names_whatever_their_case_and_converted(monkeypatch):
    monkeypatch.setenv("EXAMPLE_COUNT", "7")
    monkeypatch.setenv("example_ratio", "0.5")
    settings = Example()
    assert (settings.count, settings.ratio, settings.url) == (7, 0.5, "default")


def test_collections_take_json_unless_marked_no_decode(monkeypatch):
    monkeypatch.setenv("EXAMPLE_PRICES", '{"m": {"input": 2}}')
    monkeypatch.setenv("EXAMPLE_NAMES", "ann, bob")
    settings = Example()
    assert settings.prices == {"m": Price(input=2)} and settings.names == ["ann", "bob"]


def test_a_collection_that_is_not_json_names_the_variable_not_the_value(monkeypatch):
    monkeypatch.setenv("EXAMPLE_PRICES", "secret-looking-not-json")
    with pytest.raises(ValidationError) as caught:
        Example()
    assert "EXAMPLE_PRICES must be JSON" in str(caught.value)
    assert "secret-looking-not-json" not in str(caught.value)


def test_an_alias_list_gives_the_names_in_order_of_precedence(monkeypatch):
    monkeypatch.setenv("OLD_URL", "old")
    assert Example().url == "old"
    monkeypatch.setenv("EXAMPLE_URL", "new")
    assert Example().url == "new"


def test_the_constructor_wins_over_the_environment_which_wins_over_the_file(tmp_path, monkeypatch):
    env_file = tmp_path / "settings.env"
    env_file.write_text("EXAMPLE_COUNT=3\nEXAMPLE_RATIO=0.25\nUNRELATED=x\n")
    assert Example(_env_file=env_file).count == 3
    monkeypatch.setenv("EXAMPLE_COUNT", "4")
    settings = Example(_env_file=env_file)
    assert (settings.count, settings.ratio) == (4, 0.25)
    assert Example(_env_file=env_file, count=5).count == 5
    assert Example().ratio is None  # no file: the file's values are not kept anywhere


def test_a_bad_value_is_a_validation_error_naming_the_field(monkeypatch):
    monkeypatch.setenv("EXAMPLE_COUNT", "many")
    with pytest.raises(ValidationError) as caught:
        Example()
    assert caught.value.errors()[0]["loc"] == ("count",)
