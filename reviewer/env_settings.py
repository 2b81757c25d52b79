"""Groups of settings read from the environment and, when given, one .env file; pydantic does every
conversion and check. (pydantic-settings did this before; importing it cost a CLI command more than
the rest of its settings did.)

A field is read from `env_prefix + NAME`, or from the names its `validation_alias` lists (older names
first kept working this way). Names match whatever their case. The environment wins over the file,
and values given to the constructor win over both. A field holding a list, a dict or a model takes
JSON, unless marked `Annotated[..., NoDecode]`: its validators then see the text as it is.
"""

import json
import os
import types
from pathlib import Path
from typing import Any, ClassVar, Union, get_args, get_origin

from pydantic import AliasChoices, BaseModel, ConfigDict, model_validator
from pydantic.fields import FieldInfo

ENV_FILE_ARGUMENT = "_env_file"
_COLLECTIONS = (list, dict, set, frozenset, tuple)


class NoDecode:
    """Marks a field whose value from the environment reaches its validators as text, not as JSON."""


class EnvGroup(BaseModel):
    """One group of settings; `Group()` reads the environment, `Group(_env_file=path)` a .env file too."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    env_prefix: ClassVar[str] = "REVIEWER_"

    @model_validator(mode="before")
    @classmethod
    def _read_environment(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = dict(data)
        found = environment(given.pop(ENV_FILE_ARGUMENT, None))
        for name, field in cls.model_fields.items():
            if any(key in given for key in (name, *accepted_names(field))):
                continue
            for env_name in env_names(cls.env_prefix, name, field):
                if (value := found.get(env_name.lower())) is not None:
                    given[name] = _decoded(value, field, env_name)
                    break
        return given


def environment(env_file: Path | None = None) -> dict[str, str]:
    """The variables a group reads, by lower-case name: the .env file's, then the environment's over them."""
    found: dict[str, str] = {}
    if env_file is not None:
        from dotenv import dotenv_values

        found.update((k.lower(), v) for k, v in dotenv_values(env_file, encoding="utf-8").items() if v is not None)
    found.update((k.lower(), v) for k, v in os.environ.items())
    return found


def accepted_names(field: FieldInfo) -> list[str]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [choice for choice in alias.choices if isinstance(choice, str)]
    return [alias] if isinstance(alias, str) else []


def env_names(prefix: str, name: str, field: FieldInfo) -> list[str]:
    """The variables a field is read from, in order of precedence."""
    return accepted_names(field) or [f"{prefix}{name}".upper()]


def _takes_json(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_takes_json(arg) for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) in _COLLECTIONS or annotation in _COLLECTIONS:
        return True
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _decoded(value: str, field: FieldInfo, env_name: str) -> Any:
    if NoDecode in field.metadata or not _takes_json(field.annotation):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise ValueError(f"{env_name} must be JSON") from None
