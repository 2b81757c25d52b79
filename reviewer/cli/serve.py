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

    config = uvicorn_log_config(settings.log_format)
    return {} if config is None else {"log_config": config}


def create_server_from_command_line():
    """uvicorn's factory in each worker: the settings read afresh there, the command line's choices applied."""
    from reviewer.server import create_server

    options = json.loads(os.environ.get(SERVE_OPTIONS_VARIABLE) or "{}")
    return create_server(allow_anonymous=bool(options.get("allow_anonymous")))


def run_serve(args: argparse.Namespace, context: Context) -> int:
    import uvicorn

    from reviewer.errors import BadInputError

    _check_listen_options(args)
    settings = context.settings
    if not settings.api_keys and not args.no_auth:
        raise BadInputError(
            "no API keys: set REVIEWER_API_KEYS (comma-separated, 16+ characters each) or pass --no-auth",
            code="missing_api_keys",
        )
    if args.no_auth and settings.api_keys:
        note("--no-auth ignored: API keys are set, so every request needs one")
    elif args.no_auth:
        note("WARNING: the API accepts requests without a key (--no-auth)")
    logging.getLogger("reviewer").setLevel(logging.INFO)
    os.environ[SERVE_OPTIONS_VARIABLE] = json.dumps({"allow_anonymous": bool(args.no_auth)})
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
    if not settings.slack_enabled:
        raise BadInputError(
            "the Slack bot needs REVIEWER_SLACK_BOT_TOKEN and REVIEWER_SLACK_SIGNING_SECRET", code="missing_slack"
        )
    uvicorn.run(
        "reviewer.server:create_slack_server",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="info",
        **_uvicorn_logging(settings),
    )
    return EXIT_OK
