"""reviewer serve (the HTTP API, with the Slack bot when configured) and reviewer slack (the bot alone)."""

import argparse
import json
import logging
import os

from reviewer.cli.context import EXIT_OK, Context, note

# uvicorn starts each worker process afresh from an import string, so what the command line decided
# (and only that) reaches the workers through this variable; it is not a setting and no .env sets it.
SERVE_OPTIONS_VARIABLE = "_REVIEWER_SERVE_OPTIONS"


def add_parsers(sub) -> None:
    serve = sub.add_parser("serve", help="run the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes (they share the job store)")
    serve.add_argument("--no-auth", action="store_true", help="allow requests without an API key (local use only)")

    slack = sub.add_parser("slack", help="run only the Slack bot (POST /slack/events) and the review workers")
    slack.add_argument("--host", default="127.0.0.1")
    slack.add_argument("--port", type=int, default=3000)


def _check_listen_options(args: argparse.Namespace) -> None:
    from reviewer.errors import BadInputError

    if not 1 <= args.port <= 65535:
        raise BadInputError(f"--port must be between 1 and 65535, got {args.port}", code="bad_option")
    if getattr(args, "workers", 1) < 1:
        raise BadInputError("--workers must be at least 1", code="bad_option")


def _uvicorn_logging(settings) -> dict:
    from reviewer.logs import uvicorn_log_config

    config = uvicorn_log_config(settings.api.log_format)
    return {} if config is None else {"log_config": config}


def _options() -> dict:
    return json.loads(os.environ.get(SERVE_OPTIONS_VARIABLE) or "{}")


def _settings_from_command_line():
    from pathlib import Path

    from reviewer.config import Settings

    env_file = _options().get("env_file")
    return Settings.load(Path(env_file) if env_file else None)


def create_server_from_command_line():
    """uvicorn's factory in each worker: the settings read afresh there, the command line's choices applied."""
    from reviewer.server import create_server

    return create_server(_settings_from_command_line(), allow_anonymous=bool(_options().get("allow_anonymous")))


def create_slack_server_from_command_line():
    from reviewer.server import create_slack_server

    return create_slack_server(_settings_from_command_line())


def _pass_options(context: Context, **options: object) -> None:
    env_file = context.env_file
    os.environ[SERVE_OPTIONS_VARIABLE] = json.dumps({**options, "env_file": str(env_file) if env_file else None})


def run_serve(args: argparse.Namespace, context: Context) -> int:
    import uvicorn

    from reviewer.errors import BadInputError

    _check_listen_options(args)
    settings = context.settings
    if not settings.api.keys and not args.no_auth:
        raise BadInputError(
            "no API keys: set REVIEWER_API_KEYS (comma-separated, 16+ characters each) or pass --no-auth",
            code="missing_api_keys",
        )
    if args.no_auth and settings.api.keys:
        note("--no-auth ignored: API keys are set, so every request needs one")
    elif args.no_auth:
        note("WARNING: the API accepts requests without a key (--no-auth)")
    logging.getLogger("reviewer").setLevel(logging.INFO)
    _pass_options(context, allow_anonymous=bool(args.no_auth))
    uvicorn.run(
        "reviewer.cli.serve:create_server_from_command_line",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        **_uvicorn_logging(settings),
    )
    return EXIT_OK


def run_slack(args: argparse.Namespace, context: Context) -> int:
    import uvicorn

    from reviewer.errors import BadInputError

    _check_listen_options(args)
    settings = context.settings
    if not settings.slack.enabled:
        raise BadInputError(
            "the Slack bot needs REVIEWER_SLACK_BOT_TOKEN and REVIEWER_SLACK_SIGNING_SECRET", code="missing_slack"
        )
    _pass_options(context)
    uvicorn.run(
        "reviewer.cli.serve:create_slack_server_from_command_line",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="info",
        **_uvicorn_logging(settings),
    )
    return EXIT_OK
