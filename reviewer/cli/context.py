"""What every command shares: exit codes, settings read once per process, the backend a command asked
for, and the one-line notices the CLI prints on stderr."""

import argparse
import contextlib
import sys
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from reviewer.config import Settings

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
API_KEY_ENV = "REVIEWER_API_KEY"  # the key `--api URL` sends (reviewer/cli/remote.py)


def note(message: str) -> None:
    print(f"reviewer: {message}", file=sys.stderr)


def add_api_option(parser: argparse.ArgumentParser) -> None:
    """`--api URL`, declared here so building the parser does not import the HTTP client (cli/remote.py)."""
    parser.add_argument(
        "--api",
        metavar="URL",
        default=None,
        help=f"talk to a running reviewer server at URL (key in ${API_KEY_ENV}) instead of the local store",
    )


class Context:
    """Settings are read once, when a command first needs them, and passed on from here."""

    def __init__(self, env_file: "Path | None" = None) -> None:
        self.requested_env_file = env_file

    @cached_property
    def env_file(self) -> "Path | None":
        """The .env file this run reads (--env-file, $REVIEWER_ENV_FILE, or the config directory's)."""
        from reviewer.config import locate_env_file
        from reviewer.errors import BadInputError

        try:
            found = locate_env_file(self.requested_env_file)
        except FileNotFoundError as exc:
            raise BadInputError(str(exc), code="missing_env_file") from None
        if found is not None:
            note(f"settings read from {found}")
        return found

    @cached_property
    def settings(self) -> "Settings":
        from pydantic import ValidationError

        from reviewer.config import Settings
        from reviewer.errors import BadInputError

        try:
            return Settings.load(self.env_file)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise BadInputError(f"invalid setting: {problems}", code="invalid_settings") from None

    def model_settings(self, args: argparse.Namespace, backend: str | None = None) -> "Settings":
        """The settings with the command's --model, if it gave one, applied to the backend it runs."""
        from reviewer.grading.base import resolve_backend_name

        model = getattr(args, "model", None)
        name = backend or resolve_backend_name(getattr(args, "backend", None), self.settings)
        return self.settings.with_model(model, name)

    def backend_name(self, args: argparse.Namespace) -> str:
        """The backend the command runs: --backend, else the setting (auto: anthropic with a key)."""
        from reviewer.grading.base import resolve_backend_name

        settings = self.settings
        name = resolve_backend_name(args.backend, settings)
        if args.backend is None and settings.grading.backend == "auto" and name == "offline":
            note("no ANTHROPIC_API_KEY set, using the offline grader (no language model)")
        if name == "offline" and getattr(args, "model", None):
            note(f"--model {args.model} is ignored: the offline grader uses no language model")
        return name

    def backend(self, args: argparse.Namespace):
        """The backend itself; only its own module is imported (an offline run never loads the Claude SDK)."""
        from reviewer.grading.base import create_backend

        name = self.backend_name(args)
        return create_backend(name, self.model_settings(args, name))

    @contextlib.contextmanager
    def recorded_egress(self, sends: bool, purpose: str = "grading") -> "Iterator[None]":
        """What a command that queues no job sends off the machine, recorded in the job store under a run id
        (reviewer.queue.egress.CommandEgress) and summed up on stderr; nothing for a command that sends nothing
        (`sends` False: the offline grader, which never opens the store)."""
        if not sends:
            yield
            return
        from reviewer.queue.egress import command_egress

        with command_egress(self.settings.storage.resolved_database_url, purpose) as egress:
            try:
                yield
            finally:
                if summary := egress.summary():
                    note(summary)
