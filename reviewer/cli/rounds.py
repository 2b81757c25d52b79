"""reviewer round REVIEW_ID answer.pdf: attach the vendor's answer to a finished review as its next round,
grade it here with the proposal (the review's own rubric and backend), and print what changed per criterion.
Over the same job store as the API; the evaluator is whoever runs it (`--as NAME`, default the login name)."""

import argparse
import json
from pathlib import Path

from reviewer.cli.context import EXIT_FAILED, EXIT_OK, Context, add_api_option


def add_parsers(sub) -> None:
    parser = sub.add_parser("round", help="grade the vendor's answer to the questions as the review's next round")
    parser.add_argument("review_id")
    parser.add_argument("answer", type=Path, help="the vendor's answer (PDF or Word .docx)")
    parser.add_argument("--as", dest="evaluator", default=None, help="evaluator name (default: your login name)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    add_api_option(parser)


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def print_round(view, out=print) -> None:
    score = f"{view.overall_score:.1f}" if view.overall_score is not None else "-"
    change = f" ({view.score_change:+.1f} since round {view.compared_with})" if view.score_change is not None else ""
    out(f"round {view.number} ({view.file_name}): score {score}{change}, verdict {view.verdict or '-'}")
    for c in view.changes:
        before = c.previous_grade.value if c.previous_grade else "-"
        after = c.current_grade.value if c.current_grade else "-"
        delta = f"{c.score_change:+g}" if c.score_change is not None else "?"
        mark = "*" if c.changed else " "
        out(f" {mark} {c.criterion_id}: {before} -> {after} ({delta})")
        for quote in c.closed_by:
            out(f'     closed by {quote.document} p.{quote.document_page}: "{quote.quote}"')


def run(args: argparse.Namespace, context: Context) -> int:
    import asyncio
    import getpass

    from reviewer.cli.panel import _review_id
    from reviewer.errors import BadInputError, ReviewerError
    from reviewer.queue.services import Services

    try:
        data = args.answer.read_bytes()
    except OSError as exc:
        raise BadInputError(f"cannot read {args.answer}: {exc.strerror or exc}", code="unreadable_file") from None
    if args.api:
        from reviewer.cli import remote

        return remote.run_round(args, data)
    actor = (args.evaluator or getpass.getuser() or "local").strip()
    if not actor or len(actor) > 64:
        raise BadInputError("--as needs a name of 1 to 64 characters", code="bad_option")
    services = Services.open(context.settings)
    try:
        review_id = _review_id(services, args.review_id)
        opened = asyncio.run(services.rounds.open(review_id, data, args.answer.name, actor))
        finished = asyncio.run(services.rounds.grade(opened))
        view = next(v for v in services.rounds.rounds(review_id) if v.number == finished.number)
    finally:
        services.close()
    if view.error_code:
        raise ReviewerError(f"round {view.number} failed: {view.error_message}", code=view.error_code)
    if args.format == "json":
        print(json.dumps(view.model_dump(mode="json"), indent=2))
    else:
        print_round(view)
    return EXIT_OK if view.status.value == "done" else EXIT_FAILED
