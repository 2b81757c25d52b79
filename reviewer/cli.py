"""The command line: parse, call the core, render. No review logic lives here."""

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from reviewer import __version__
from reviewer.config import Settings
from reviewer.documents import read_pdf, safe_file_name
from reviewer.errors import BadInputError, ReviewerError
from reviewer.grading.base import create_backend, resolve_backend_name
from reviewer.output import write_atomically
from reviewer.pipeline import review_document
from reviewer.render.markdown import render_markdown
from reviewer.review import Review
from reviewer.rubric import bundled_rubric_names, load_rubric

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviewer", description="Review vendor proposals against a rubric.")
    parser.add_argument("--version", action="version", version=f"reviewer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    review = sub.add_parser("review", help="review one proposal PDF")
    review.add_argument("file", type=Path, help="the proposal PDF")
    review.add_argument("--rubric", default=None, help="bundled rubric name or path to a YAML/TOML rubric")
    review.add_argument("--backend", default=None, help="anthropic | offline (default: anthropic if a key is set)")
    review.add_argument("--model", default=None, help="model for the anthropic backend (default from settings)")
    review.add_argument("--format", choices=["json", "markdown"], default="markdown")
    review.add_argument("--output", "-o", type=Path, default=None, help="write here instead of stdout")
    review.add_argument("--password", default=None, help="password of an encrypted PDF")

    sub.add_parser("schema", help="print the Review JSON Schema")

    rubrics = sub.add_parser("rubrics", help="list bundled rubrics, or check a rubric file")
    rubrics.add_argument("--check", type=Path, default=None, help="validate this rubric file and exit")
    return parser


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BadInputError(f"invalid setting: {problems}", code="invalid_settings") from None


def _review(args: argparse.Namespace) -> int:
    settings = _load_settings()
    if args.model:
        settings = settings.model_copy(update={"model": args.model})
    rubric = load_rubric(args.rubric)
    backend_name = resolve_backend_name(args.backend, settings)
    if args.backend is None and settings.backend == "auto" and backend_name == "offline":
        print(
            "reviewer: no ANTHROPIC_API_KEY set, using the offline grader (no language model)",
            file=sys.stderr,
        )
    backend = create_backend(backend_name, settings)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{args.file}: cannot read file ({exc.strerror})", code="unreadable_file") from None
    document = read_pdf(data, safe_file_name(args.file.name), limits=settings.ingest, password=args.password)
    review = asyncio.run(review_document(document, rubric, backend))
    text = review.model_dump_json(indent=2) if args.format == "json" else render_markdown(review)
    if args.output:
        write_atomically(args.output, text if text.endswith("\n") else text + "\n")
        print(f"reviewer: wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if review.error_count:
        print(
            f"reviewer: {review.error_count} criteria could not be graded; see their errors in the report",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def _schema(_: argparse.Namespace) -> int:
    print(json.dumps(Review.model_json_schema(), indent=2))
    return EXIT_OK


def _rubrics(args: argparse.Namespace) -> int:
    if args.check:
        rubric = load_rubric(args.check)
        print(f"{args.check}: ok ({rubric.id} v{rubric.version}, {len(rubric.criteria)} criteria)")
        return EXIT_OK
    for name in bundled_rubric_names():
        rubric = load_rubric(name)
        print(f"{name}\t{rubric.id} v{rubric.version}\t{len(rubric.criteria)} criteria\t{rubric.title}")
    return EXIT_OK


COMMANDS = {"review": _review, "schema": _schema, "rubrics": _rubrics}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    debug = args.debug or os.environ.get("REVIEWER_DEBUG") == "1"
    logging.basicConfig(level=logging.DEBUG if debug else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except BadInputError as exc:
        print(f"reviewer: error: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ReviewerError as exc:
        print(f"reviewer: error: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("reviewer: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        print(
            f"reviewer: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
