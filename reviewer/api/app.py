"""The FastAPI application: wiring only. Review logic lives in the core; jobs in reviewer.queue. Other
shells (the Slack bot) join a server as extensions handed in by `reviewer.server`; this package
imports none of them."""

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviewer import __version__
from reviewer.api.body_limits import BodyLimits, BodyRule
from reviewer.api.deps import check_api_key, require_api_key
from reviewer.api.errors import install_error_handlers
from reviewer.api.routes import batches, egress, health, panel, questions, reviews, rounds, rubrics
from reviewer.api.routes.docs import mount_docs
from reviewer.api.schemas import ErrorResponse
from reviewer.config import Settings, locate_env_file
from reviewer.grading.base import create_backend
from reviewer.logs import configure_logging
from reviewer.queue.retention import purge_periodically
from reviewer.queue.runner import BackendFactory
from reviewer.queue.services import Services

log = logging.getLogger("reviewer.api")
MULTIPART_OVERHEAD = 64 * 1024


class AppExtension(Protocol):
    """Something a server runs beside the API (the Slack bot): routes of its own, started and stopped
    with the app, sharing its services."""

    def mount(self, app: FastAPI) -> None: ...

    async def start(self, services: Services, *, run_workers: bool) -> None: ...

    async def stop(self) -> None: ...

    # Optional: `body_limits() -> dict[tuple[str, str], int]`, the most bytes each of the extension's upload
    # routes ((method, path)) may receive; the extension checks who is asking itself.


def upload_rules(settings: Settings) -> dict[tuple[str, str], BodyRule]:
    """The upload routes: the key is checked before their body is read; one file, or a whole batch whose
    files each have the per-file limit (checked by the route)."""
    return {
        ("POST", "/v1/reviews"): BodyRule(settings.ingest.max_file_bytes + MULTIPART_OVERHEAD, authenticate_first=True),
        ("POST", "/v1/batches"): BodyRule(settings.api.max_batch_bytes, authenticate_first=True),
    }


class AccessLog:
    """One line per request: method, path, status, time (pure ASGI, so bodies stream through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            log.info(
                "%s %s -> %d in %.1f ms", scope["method"], scope["path"], status, (time.perf_counter() - started) * 1000
            )


def create_app(
    settings: Settings | None = None,
    *,
    backend_factory: BackendFactory = create_backend,
    run_workers: bool = True,
    api_routes: bool = True,
    allow_anonymous: bool = False,
    extensions: Sequence[AppExtension] = (),
) -> FastAPI:
    """`allow_anonymous` (reviewer serve --no-auth) lets requests without a key through when no keys are
    configured; it is an argument, never a setting, so no environment or .env file can open a server."""
    settings = settings or Settings.load(locate_env_file())
    configure_logging(settings.api.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Database calls run in threads; the default pool (cores + 4) is too small to keep uploads
        # from queueing behind the workers' calls.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=32))
        services = await asyncio.to_thread(Services.open, settings, backend_factory)
        app.state.services = services
        app.state.settings = settings
        # Load the default backend (the Claude SDK takes about a second) before the first request, not during it.
        await asyncio.to_thread(_warm_default_backend, services)
        if run_workers:
            await services.runner.start()
        for extension in extensions:
            await extension.start(services, run_workers=run_workers)
        retention = _start_retention(services)
        try:
            yield
        finally:
            if retention is not None:
                retention.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await retention
            for extension in extensions:
                await extension.stop()
            await services.rounds.stop()
            if run_workers:
                await services.runner.stop()
            services.close()

    app = FastAPI(
        title="reviewer",
        version=__version__,
        summary="Graded, citation-checked reviews of vendor proposals against a rubric.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.allow_anonymous = allow_anonymous
    install_error_handlers(app)

    rules = upload_rules(settings)
    for extension in extensions:  # an extension's own upload routes (the web app's New evaluation form)
        limits = getattr(extension, "body_limits", dict)()
        rules |= {route: BodyRule(max_bytes) for route, max_bytes in limits.items()}
    app.add_middleware(
        BodyLimits,
        rules=rules,
        default=BodyRule(settings.ingest.max_file_bytes + MULTIPART_OVERHEAD),
        timeout_seconds=settings.api.body_timeout_seconds,
        authenticate=lambda request: check_api_key(request, settings),
    )
    app.add_middleware(AccessLog)  # outermost: it logs the middleware's own 401/408/413 too

    app.include_router(health.router)
    if api_routes:
        protected = [Depends(require_api_key)]
        unauthorized = {401: {"model": ErrorResponse, "description": "no API key, or not a valid one"}}
        routers = (reviews, rubrics, batches, panel, rounds, questions, egress)
        for router in (module.router for module in routers):
            app.include_router(router, dependencies=protected, responses=unauthorized)
    mount_docs(app, public=settings.api.public_docs)
    for extension in extensions:
        extension.mount(app)
    return app


def _start_retention(services: Services) -> asyncio.Task | None:
    """REVIEWER_RETENTION_DAYS: the purge at start-up, then once a day, in the background of this process."""
    days = services.settings.storage.retention_days
    if not days:
        return None
    log.info("retention: reviews are deleted %d days after their last activity", days)
    purge = functools.partial(services.retention.purge, days)
    return asyncio.create_task(purge_periodically(purge), name="retention")


def _warm_default_backend(services: Services) -> None:
    from reviewer.errors import ReviewerError
    from reviewer.grading.base import resolve_backend_name

    with contextlib.suppress(ReviewerError):  # /readyz reports it; a request naming another backend may work
        services.runner.backend_for(resolve_backend_name(None, services.settings))
