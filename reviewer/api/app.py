"""The FastAPI application: wiring only. Review logic lives in the core; jobs in reviewer.jobs."""

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from reviewer import __version__
from reviewer.api.deps import require_api_key
from reviewer.api.errors import error_body, install_error_handlers
from reviewer.api.routes import batches, health, reviews, rubrics
from reviewer.config import Settings
from reviewer.grading.base import available_backends, create_backend
from reviewer.jobs import BackendFactory, JobRunner
from reviewer.logs import configure_logging
from reviewer.rubric import RubricCatalog
from reviewer.store import FileStore, JobStore, make_engine

log = logging.getLogger("reviewer.api")
MULTIPART_OVERHEAD = 64 * 1024


def create_slack_app() -> FastAPI:
    """The Slack bot alone (`reviewer slack`): /slack/events, the health checks and the review workers."""
    return create_app(api_routes=False)


def create_app(
    settings: Settings | None = None,
    *,
    backend_factory: BackendFactory = create_backend,
    run_workers: bool = True,
    api_routes: bool = True,
) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Database calls run in threads; the default pool (cores + 4) is too small to keep uploads
        # from queueing behind the workers' calls.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=32))
        app.state.settings = settings
        app.state.store = JobStore(make_engine(settings.resolved_database_url))
        app.state.files = FileStore(settings.data_dir / "uploads")
        app.state.catalog = RubricCatalog(settings.rubrics_dir)
        app.state.runner = JobRunner(app.state.store, app.state.files, settings, app.state.catalog, backend_factory)
        # Import every backend (the Claude SDK takes about a second) before the first request, not during it.
        await asyncio.to_thread(available_backends)
        if run_workers:
            await app.state.runner.start()
        if settings.slack_enabled:
            from reviewer.slack.bot import SlackBot

            app.state.slack_bot = SlackBot(
                settings, app.state.store, app.state.files, app.state.runner, app.state.catalog
            )
            if run_workers:
                app.state.slack_bot.start()
        try:
            yield
        finally:
            if settings.slack_enabled:
                await app.state.slack_bot.stop()
            if run_workers:
                await app.state.runner.stop()
            app.state.store.engine.dispose()

    app = FastAPI(
        title="reviewer",
        version=__version__,
        summary="Graded, citation-checked reviews of vendor proposals against a rubric.",
        lifespan=lifespan,
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def limit_and_log(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.ingest.max_file_bytes + MULTIPART_OVERHEAD:
            return JSONResponse(
                error_body(
                    "too_large", f"the upload is over the limit of {settings.ingest.max_file_bytes / 1_048_576:.1f} MB"
                ),
                status_code=413,
            )
        started = time.perf_counter()
        response = await call_next(request)
        log.info(
            "%s %s -> %d in %.1f ms",
            request.method,
            request.url.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    app.include_router(health.router)
    if api_routes:
        protected = [Depends(require_api_key)]
        app.include_router(reviews.router, dependencies=protected)
        app.include_router(rubrics.router, dependencies=protected)
        app.include_router(batches.router, dependencies=protected)
    if settings.slack_enabled:
        mount_slack(app)
    return app


def mount_slack(app: FastAPI) -> None:
    """POST /slack/events: Slack events and slash commands, verified by Bolt with the signing secret."""
    from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request):
        state = request.app.state
        if not hasattr(state, "slack_handler"):
            state.slack_handler = AsyncSlackRequestHandler(state.slack_bot.app)
        return await state.slack_handler.handle(request)
