"""Dependencies, declared once as Annotated aliases so route signatures read as plain types."""

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from reviewer.api.errors import ApiError
from reviewer.config import LOCAL_EVALUATOR, Settings
from reviewer.queue.intake import Intake
from reviewer.queue.panel import PanelService
from reviewer.queue.proposal import ProposalPages
from reviewer.queue.review_ids import resolve_review_id
from reviewer.queue.rounds import RoundService
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


def get_panel(request: Request) -> PanelService:
    return request.app.state.services.panel


def get_rounds(request: Request) -> RoundService:
    return request.app.state.services.rounds


def get_proposals(request: Request) -> ProposalPages:
    return request.app.state.services.proposals


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[JobStore, Depends(get_store)]
FilesDep = Annotated[FileStore, Depends(get_files)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
CatalogDep = Annotated[RubricCatalog, Depends(get_catalog)]
IntakeDep = Annotated[Intake, Depends(get_intake)]
PanelDep = Annotated[PanelService, Depends(get_panel)]
RoundsDep = Annotated[RoundService, Depends(get_rounds)]
ProposalsDep = Annotated[ProposalPages, Depends(get_proposals)]


def resolved_review_id(review_id: str, store: StoreDep) -> str:
    """The path's review id, or the full id of the one review it is a unique prefix of (4+ characters):
    404 not_found for none, 409 ambiguous_id with the candidates for several."""
    return resolve_review_id(store, review_id)


ReviewIdDep = Annotated[str, Depends(resolved_review_id)]


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def check_api_key(request: Request, settings: Settings) -> str:
    """The one key check, called by the route dependency below and by the body-limit middleware (before
    any body is read). The evaluator making the request (the name of their key). Without keys, under
    --no-auth, everyone is the one local user, who leads their own evaluations. Raises ApiError(401)."""
    if not settings.api.keys and request.app.state.allow_anonymous:
        return LOCAL_EVALUATOR
    key = presented_key(request)
    if not key:
        raise ApiError(401, "unauthorized", "an API key is required: send 'Authorization: Bearer <key>'")
    evaluator = settings.api.evaluator_for_key(key)
    if evaluator is None:
        raise ApiError(401, "unauthorized", "the API key is not valid")
    return evaluator


# Declared so OpenAPI lists how to send a key (Swagger's Authorize button); the check itself is above.
bearer_scheme = HTTPBearer(auto_error=False, description="an API key from REVIEWER_API_KEYS")
header_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="the same key, in a header of its own")


def require_api_key(
    request: Request,
    settings: SettingsDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
    _header: Annotated[str | None, Security(header_scheme)] = None,
) -> str:
    return check_api_key(request, settings)


class Evaluator(BaseModel):
    name: str
    lead: bool


def current_evaluator(request: Request, settings: SettingsDep) -> Evaluator:
    name = require_api_key(request, settings)
    return Evaluator(name=name, lead=name == LOCAL_EVALUATOR or settings.api.is_lead(name))


EvaluatorDep = Annotated[Evaluator, Depends(current_evaluator)]
