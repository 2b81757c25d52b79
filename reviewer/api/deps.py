"""Dependencies, declared once as Annotated aliases so route signatures read as plain types."""

import hmac
from typing import Annotated

from fastapi import Depends, Request

from reviewer.api.errors import ApiError
from reviewer.config import Settings
from reviewer.queue.intake import Intake
from reviewer.queue.runner import JobRunner
from reviewer.rubric import RubricCatalog
from reviewer.store import FileStore, JobStore


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> JobStore:
    return request.app.state.services.store


def get_files(request: Request) -> FileStore:
    return request.app.state.services.files


def get_runner(request: Request) -> JobRunner:
    return request.app.state.services.runner


def get_catalog(request: Request) -> RubricCatalog:
    return request.app.state.services.catalog


def get_intake(request: Request) -> Intake:
    return request.app.state.services.intake


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[JobStore, Depends(get_store)]
FilesDep = Annotated[FileStore, Depends(get_files)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
CatalogDep = Annotated[RubricCatalog, Depends(get_catalog)]
IntakeDep = Annotated[Intake, Depends(get_intake)]


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def require_api_key(request: Request, settings: SettingsDep) -> None:
    if not settings.api.keys and request.app.state.allow_anonymous:
        return
    key = presented_key(request)
    if not key:
        raise ApiError(401, "unauthorized", "an API key is required: send 'Authorization: Bearer <key>'")
    matched = False
    for allowed in settings.api.keys:  # compare against every key, in constant time, without stopping early
        matched |= hmac.compare_digest(key.encode(), allowed.get_secret_value().encode())
    if not matched:
        raise ApiError(401, "unauthorized", "the API key is not valid")
