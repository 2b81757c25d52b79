"""A server process: the HTTP API with, when Slack is configured, the Slack bot beside it. The one
place the shells meet, so that neither imports the other."""

from fastapi import FastAPI

from reviewer.api.app import create_app
from reviewer.config import Settings, locate_env_file
from reviewer.grading.base import create_backend
from reviewer.queue.runner import BackendFactory


def _slack(settings: Settings) -> list:
    if not settings.slack.enabled:
        return []
    from reviewer.slack.extension import SlackExtension

    return [SlackExtension()]


def _web(settings: Settings):
    from reviewer.web.extension import WebExtension

    return WebExtension(settings)


def create_server(
    settings: Settings | None = None,
    *,
    backend_factory: BackendFactory = create_backend,
    run_workers: bool = True,
    allow_anonymous: bool = False,
) -> FastAPI:
    """`reviewer serve`: the API, and the Slack bot at /slack/events when its token and secret are set."""
    settings = settings or Settings.load(locate_env_file())
    return create_app(
        settings,
        backend_factory=backend_factory,
        run_workers=run_workers,
        allow_anonymous=allow_anonymous,
        extensions=[*_slack(settings), _web(settings)],
    )


def create_slack_server(settings: Settings | None = None) -> FastAPI:
    """`reviewer slack`: /slack/events, the health checks and the review workers; no review API."""
    settings = settings or Settings.load(locate_env_file())
    return create_app(settings, api_routes=False, extensions=_slack(settings))
