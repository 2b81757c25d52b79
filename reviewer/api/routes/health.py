"""Liveness and readiness; the only routes that need no API key."""

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from reviewer.api.deps import CatalogDep, RunnerDep, SettingsDep, StoreDep
from reviewer.errors import ReviewerError
from reviewer.grading.base import resolve_backend_name

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The store is reachable, the default backend configured and the review workers running")
async def readyz(store: StoreDep, settings: SettingsDep, runner: RunnerDep, catalog: CatalogDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await asyncio.to_thread(store.ping)
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"unreachable: {type(exc).__name__}"
    backend = resolve_backend_name(None, settings)
    try:
        runner.backend_for(backend)
        checks["backend"] = f"ok ({backend})"
    except ReviewerError as exc:
        checks["backend"] = exc.message
    match runner.workers_state():
        case None:
            checks["workers"] = "ok (none in this process)"
        case (running, started) if running == started:
            checks["workers"] = f"ok ({running} running)"
        case (running, started):
            checks["workers"] = f"{started - running} of {started} review workers stopped"
    ready = all(v.startswith("ok") for v in checks.values())
    body: dict[str, object] = {"status": "ready" if ready else "not_ready", "checks": checks}
    broken = await asyncio.to_thread(catalog.problems)
    if broken:  # served from the bundled and the valid files meanwhile; which and why is in the server log
        body["warnings"] = [f"rubric '{name}' is invalid and skipped (see the server log)" for name in sorted(broken)]
        for name, problem in broken.items():
            log.warning("rubric %s: %s", name, problem)
    return JSONResponse(body, status_code=200 if ready else 503)
