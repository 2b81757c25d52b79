"""The command line: parse, call the core, render. One module per command; each imports what it needs
when it runs, so `reviewer --version` or an offline review pays only for what it uses."""

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from reviewer import __version__
from reviewer.cli import bulk, egress, evaluate, info, models, panel, purge, review, rounds, rubric, serve
from reviewer.cli.context import EXIT_BAD_INPUT, EXIT_FAILED, Context, note

Command = Callable[[argparse.Namespace, Context], int]

COMMANDS: dict[str, Command] = {
    "review": review.run,
    "eval": evaluate.run_eval,
    "eval-diff": evaluate.run_eval_diff,
    "bulk": bulk.run,
    "serve": serve.run_serve,
    "slack": serve.run_slack,
    "schema": info.run_schema,
    "rubrics": info.run_rubrics,
    "rubric": rubric.run,
    "assess": panel.run_assess,
    "consensus": panel.run_consensus,
    "audit": panel.run_audit,
    "reviews": panel.run_reviews,
    "agreement": panel.run_agreement,
    "questions": panel.run_questions,
    "round": rounds.run,
    "purge": purge.run,
    "egress": egress.run,
    "models": models.run,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviewer", description="Review vendor proposals against a rubric.")
    parser.add_argument("--version", action="version", version=f"reviewer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument(
        "--env-file",
        type=Path,
        help="read settings from this .env file (default: $REVIEWER_ENV_FILE, else ~/.config/reviewer/.env)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    review.add_parser(sub)
    evaluate.add_parsers(sub)
    serve.add_parsers(sub)
    bulk.add_parser(sub)
    info.add_parsers(sub)
    rubric.add_parser(sub)
    panel.add_parsers(sub)
    rounds.add_parsers(sub)
    purge.add_parser(sub)
    egress.add_parser(sub)
    models.add_parsers(sub)
    return parser


EXIT_CLOSED_PIPE = 128 + 13  # as a process ended by SIGPIPE: `reviewer schema | head -1` is a normal end


def _discard_stdout() -> None:
    """The reader of stdout went away: point stdout at /dev/null, so the flush at interpreter exit
    does not fail again and print "Exception ignored ... BrokenPipeError"."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a file descriptor (captured in tests): nothing to flush
        pass


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("REVIEWER_DEBUG") == "1"
    logging.basicConfig(level=logging.DEBUG if debug else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    from reviewer.errors import BadInputError, ReviewerError

    try:
        code = COMMANDS[args.command](args, Context(args.env_file))
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_CLOSED_PIPE
    except BadInputError as exc:
        note(f"error: {exc.message}")
        return EXIT_BAD_INPUT
    except ReviewerError as exc:
        note(f"error: {exc.message}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        note("interrupted")
        return 130
    except Exception as exc:
        if debug:
            raise
        note(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)")
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
