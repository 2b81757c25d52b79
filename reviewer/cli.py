"""The command line: parse, call the core, render. No review logic lives here."""

import argparse
import asyncio
import json
import logging
import os
import sys
from itertools import islice
from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import SettingsError

from reviewer import __version__
from reviewer.bulk import Source, collect_sources, load_vendor_mapping, run_bulk, write_outputs
from reviewer.comparison import anonymize, build_comparison
from reviewer.config import Settings
from reviewer.documents import read_pdf, safe_file_name
from reviewer.errors import BadInputError, ReviewerError
from reviewer.evaluation.datasets import LabelledSet, load_contractnli, load_samples
from reviewer.evaluation.run_diff import PredictionLine, diff_runs, read_predictions
from reviewer.evaluation.runner import evaluate, evaluate_in_batch
from reviewer.grading.base import GradingBackend, create_backend, resolve_backend_name
from reviewer.logs import uvicorn_log_config
from reviewer.output import check_writable, write_atomically
from reviewer.pipeline import review_document
from reviewer.progress import Progress
from reviewer.render.evaluation import render_diff_table, render_eval_table
from reviewer.render.html import render_html
from reviewer.render.markdown import render_markdown
from reviewer.render.slack import summary_blocks, summary_text
from reviewer.review import Review
from reviewer.rubric import RUBRIC_SUFFIXES, Rubric, RubricCatalog, bundled_rubric_names, load_rubric

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
    review.add_argument("--format", choices=["json", "markdown", "html", "slack"], default="markdown")
    review.add_argument("--output", "-o", type=Path, default=None, help="write here instead of stdout")
    review.add_argument("--password", default=None, help="password of an encrypted PDF")

    evaluation = sub.add_parser("eval", help="measure a backend on labelled documents")
    evaluation.add_argument("--samples", action="store_true", help="the project's labelled samples (default)")
    evaluation.add_argument(
        "--labelled",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of your own labelled proposals: PDFs and a labels.yaml like samples/labels.yaml",
    )
    evaluation.add_argument("--contractnli", type=Path, default=None, help="a ContractNLI split (JSON)")
    evaluation.add_argument("--backend", default=None, help="anthropic | offline (default: as for review)")
    evaluation.add_argument("--model", default=None, help="model for the anthropic backend")
    evaluation.add_argument("--limit", type=int, default=None, help="only the first N documents of each set")
    evaluation.add_argument("--concurrency", type=int, default=4, help="documents reviewed at once")
    evaluation.add_argument("--predictions", type=Path, default=None, help="write one JSON line per label here")
    evaluation.add_argument("--min-accuracy", type=float, default=None, help="exit 1 if accuracy is below this")
    evaluation.add_argument("--min-macro-f1", type=float, default=None, help="exit 1 if macro-F1 is below this")
    evaluation.add_argument("--format", choices=["table", "json"], default="table")
    evaluation.add_argument("--output", "-o", type=Path, default=None, help="write the report here")
    evaluation.add_argument(
        "--batch-api",
        action="store_true",
        help="send the run as one Anthropic Message Batch (half price, results within a day; resumable)",
    )
    evaluation.add_argument(
        "--estimate",
        action="store_true",
        help="print what a Claude run would cost (tokens, dollars) and send nothing; no key needed",
    )
    evaluation.add_argument("--no-progress", action="store_true", help="no progress line on stderr")

    eval_diff = sub.add_parser(
        "eval-diff", help="compare two runs of `reviewer eval` (their --predictions files) on the same labels"
    )
    eval_diff.add_argument("baseline", type=Path, help="predictions file of the run to compare against")
    eval_diff.add_argument("candidate", type=Path, help="predictions file of the new run")
    eval_diff.add_argument("--format", choices=["table", "json"], default="table")
    eval_diff.add_argument("--output", "-o", type=Path, default=None, help="write the comparison here")
    eval_diff.add_argument(
        "--fail-if-worse",
        action="store_true",
        help="exit 1 when the candidate is worse beyond the noise (the whole 95%% interval below zero)",
    )

    serve = sub.add_parser("serve", help="run the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes (they share the job store)")
    serve.add_argument("--no-auth", action="store_true", help="allow requests without an API key (local use only)")

    slack = sub.add_parser("slack", help="run only the Slack bot (POST /slack/events) and the review workers")
    slack.add_argument("--host", default="127.0.0.1")
    slack.add_argument("--port", type=int, default=3000)

    bulk = sub.add_parser("bulk", help="review every proposal of an RFP and compare the vendors")
    bulk.add_argument("paths", nargs="+", type=Path, help="folders, zip files or PDF files")
    bulk.add_argument("--rubric", default="default", help="rubric name, id or file")
    bulk.add_argument("--backend", default=None, help="anthropic | offline (default: as for review)")
    bulk.add_argument("--model", default=None, help="model for the anthropic backend")
    bulk.add_argument("--concurrency", type=int, default=4, help="proposals reviewed at once")
    bulk.add_argument("--out", type=Path, default=Path("comparison"), help="output folder")
    bulk.add_argument("--force", action="store_true", help="review again documents already reviewed")
    bulk.add_argument("--vendors", type=Path, default=None, help="file name -> vendor name (YAML, JSON or CSV)")
    bulk.add_argument("--anonymize", action="store_true", help="'Vendor A, B, ...' in every output")
    bulk.add_argument("--batch-api", action="store_true", help="one Anthropic Message Batch (half price, slower)")
    bulk.add_argument(
        "--estimate",
        action="store_true",
        help="print what reviewing these proposals with Claude would cost, and send nothing; no key needed",
    )
    bulk.add_argument("--no-progress", action="store_true")

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
    except SettingsError as exc:
        raise BadInputError(f"invalid setting: {exc}", code="invalid_settings") from None


def _review(args: argparse.Namespace) -> int:
    settings = _load_settings()
    if args.output:
        check_writable(args.output)
    rubric = load_rubric(args.rubric)
    backend = _backend_for(args)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{args.file}: cannot read file ({exc.strerror})", code="unreadable_file") from None
    document = read_pdf(data, safe_file_name(args.file.name), limits=settings.ingest, password=args.password)
    review = asyncio.run(review_document(document, rubric, backend))
    renderers = {
        "json": lambda r: r.model_dump_json(indent=2),
        "markdown": render_markdown,
        "html": render_html,
        "slack": lambda r: json.dumps(
            {"text": summary_text(r), "blocks": summary_blocks(r, None, settings.public_base_url)},
            indent=2,
            ensure_ascii=False,
        ),
    }
    text = renderers[args.format](review)
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


def _backend_for(args: argparse.Namespace) -> GradingBackend:
    settings = _model_settings(args)
    backend_name = resolve_backend_name(args.backend, settings)
    if args.backend is None and settings.backend == "auto" and backend_name == "offline":
        print("reviewer: no ANTHROPIC_API_KEY set, using the offline grader (no language model)", file=sys.stderr)
    return create_backend(backend_name, settings)


def _model_settings(args: argparse.Namespace) -> Settings:
    settings = _load_settings()
    return settings.model_copy(update={"model": args.model}) if args.model else settings


def _estimate_eval(args: argparse.Namespace, labelled_sets: list[LabelledSet]) -> int:
    from reviewer.grading.estimate import describe, empty_estimate, estimate_review

    settings = _model_settings(args)
    total = empty_estimate(settings)
    for labelled in labelled_sets:
        estimate = empty_estimate(settings)
        for item in islice(labelled.documents(), args.limit):
            estimate += estimate_review(item.document, labelled.rubric, settings)
        print(f"{labelled.name}: {describe(estimate)}")
        total += estimate
    if len(labelled_sets) > 1:
        print(f"all sets: {describe(total)}")
    return EXIT_OK


def _estimate_bulk(sources: list[Source], rubric: Rubric, settings: Settings) -> int:
    from reviewer.grading.estimate import describe, empty_estimate, estimate_review

    total = empty_estimate(settings)
    unreadable = 0
    for source in sources:
        try:
            data = source.read(settings.ingest.max_file_bytes)
            document = read_pdf(data, source.name, limits=settings.ingest)
        except (BadInputError, OSError) as exc:
            unreadable += 1
            print(f"reviewer: not counted: {source.name}: {getattr(exc, 'message', None) or exc}", file=sys.stderr)
            continue
        total += estimate_review(document, rubric, settings)
    print(describe(total))
    return EXIT_FAILED if unreadable else EXIT_OK


def _eval(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise BadInputError("--limit must be at least 1", code="bad_option")
    if args.concurrency < 1:
        raise BadInputError("--concurrency must be at least 1", code="bad_option")
    for option, bar in (("--min-accuracy", args.min_accuracy), ("--min-macro-f1", args.min_macro_f1)):
        if bar is not None and not 0 <= bar <= 1:
            raise BadInputError(f"{option} must be between 0 and 1, got {bar:g}", code="bad_option")
    for destination in (args.output, args.predictions):
        if destination:
            check_writable(destination)
    labelled_sets = []
    if args.samples or not (args.contractnli or args.labelled):
        labelled_sets.append(load_samples())
    for directory in args.labelled:
        labelled_sets.append(load_samples(directory))
    if args.contractnli:
        labelled_sets.append(load_contractnli(args.contractnli))
    if args.estimate:
        return _estimate_eval(args, labelled_sets)
    if args.batch_api and args.backend is None:
        args.backend = "anthropic"
    backend = _backend_for(args)
    reports, below = [], []
    prediction_lines: list[str] = []
    if args.batch_api and backend.name != "anthropic":
        raise BadInputError("--batch-api needs the anthropic backend", code="bad_option")
    for labelled in labelled_sets:
        if args.batch_api:
            state_dir = _load_settings().data_dir / "batches"
            report, predictions = evaluate_in_batch(
                labelled, backend, state_dir, limit=args.limit, show_progress=not args.no_progress
            )
        else:
            report, predictions = evaluate(
                labelled, backend, limit=args.limit, concurrency=args.concurrency, show_progress=not args.no_progress
            )
        reports.append(report)
        if report.gold_quotes_not_found:
            print(
                f"reviewer: warning: {labelled.name}: {len(report.gold_quotes_not_found)} gold quotes are not in "
                f"their documents' text and count as no evidence; first: {report.gold_quotes_not_found[0]}",
                file=sys.stderr,
            )
        prediction_lines += [PredictionLine.of(p, labelled.name).model_dump_json() for p in predictions]
        if args.min_accuracy is not None and report.metrics.accuracy < args.min_accuracy:
            below.append(f"{labelled.name}: accuracy {report.metrics.accuracy:.3f} < {args.min_accuracy}")
        if args.min_macro_f1 is not None and report.metrics.macro_f1 < args.min_macro_f1:
            below.append(f"{labelled.name}: macro-F1 {report.metrics.macro_f1:.3f} < {args.min_macro_f1}")
    if args.predictions:
        write_atomically(args.predictions, "".join(line + "\n" for line in prediction_lines))
    if args.format == "json":
        text = json.dumps([r.model_dump(mode="json") for r in reports], indent=2) + "\n"
    else:
        text = "\n".join(render_eval_table(r) for r in reports)
    if args.output:
        write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    for line in below:
        print(f"reviewer: below the bar: {line}", file=sys.stderr)
    return EXIT_FAILED if below else EXIT_OK


def _eval_diff(args: argparse.Namespace) -> int:
    if args.output:
        check_writable(args.output)
    diff = diff_runs(
        read_predictions(args.baseline), read_predictions(args.candidate), (str(args.baseline), str(args.candidate))
    )
    text = diff.model_dump_json(indent=2) + "\n" if args.format == "json" else render_diff_table(diff)
    if args.output:
        write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    if args.fail_if_worse and diff.verdict == "worse":
        print(
            f"reviewer: the candidate is worse: accuracy {diff.difference:+.3f} "
            f"({diff.difference_interval.low:+.3f} to {diff.difference_interval.high:+.3f})",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def _uvicorn_logging(settings: Settings) -> dict:
    config = uvicorn_log_config(settings.log_format)
    return {} if config is None else {"log_config": config}


def _check_listen_options(args: argparse.Namespace) -> None:
    if not 1 <= args.port <= 65535:
        raise BadInputError(f"--port must be between 1 and 65535, got {args.port}", code="bad_option")
    if getattr(args, "workers", 1) < 1:
        raise BadInputError("--workers must be at least 1", code="bad_option")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    _check_listen_options(args)
    if args.no_auth:
        os.environ["REVIEWER_API_ALLOW_ANONYMOUS"] = "true"
    settings = _load_settings()
    if not settings.api_keys and not settings.api_allow_anonymous:
        raise BadInputError(
            "no API keys: set REVIEWER_API_KEYS (comma-separated, 16+ characters each) or pass --no-auth",
            code="missing_api_keys",
        )
    if not settings.api_keys:
        print("reviewer: WARNING: the API accepts requests without a key (--no-auth)", file=sys.stderr)
    logging.getLogger("reviewer").setLevel(logging.INFO)
    uvicorn.run(
        "reviewer.api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        **_uvicorn_logging(settings),
    )
    return EXIT_OK


def _bulk(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        raise BadInputError("--concurrency must be at least 1", code="bad_option")
    settings = _load_settings().model_copy(update={"api_worker_concurrency": args.concurrency})
    if args.model:
        settings = settings.model_copy(update={"model": args.model})
    rubric_ref = Path(args.rubric)
    if rubric_ref.suffix in RUBRIC_SUFFIXES:
        if not rubric_ref.is_file():
            raise BadInputError(f"{rubric_ref}: no such rubric file", code="unknown_rubric")
        catalog, rubric_name = RubricCatalog(rubric_ref.parent), rubric_ref.stem
    else:
        catalog, rubric_name = RubricCatalog(settings.rubrics_dir), args.rubric
    rubric = catalog.load(rubric_name)
    sources = collect_sources(args.paths)
    if args.estimate:
        return _estimate_bulk(sources, rubric, settings)
    vendors = load_vendor_mapping(args.vendors) if args.vendors else {}
    check_writable(args.out, folder=True)
    backend = _backend_for(args)
    progress = Progress(len(sources), "bulk", enabled=not args.no_progress)
    result = asyncio.run(
        run_bulk(
            sources,
            rubric_name,
            backend.name,
            settings,
            catalog,
            force=args.force,
            vendors=vendors,
            progress=progress,
            on_event=lambda line: print(f"reviewer: failed: {line}", file=sys.stderr),
            batch_api=args.batch_api,
        )
    )
    entries, key = anonymize(result.entries) if args.anonymize else (result.entries, None)
    comparison = build_comparison(entries, rubric).model_copy(update={"anonymized": args.anonymize})
    write_outputs(args.out, comparison, entries, key)
    for row in comparison.rows:
        rank = "-" if row.rank is None else f"{row.rank}{'=' if row.tied else ''}"
        score = "failed: " + (row.error or "") if row.status != "done" else f"{row.overall_score:.1f}"
        print(f"{rank:>4}  {row.vendor:30}  {score}  red flags {row.red_flags}")
    print(
        f"reviewer: {result.reviewed} reviewed, {result.skipped} already reviewed, {result.failed} failed; "
        f"${result.usage.estimated_cost_usd:.4f}; outputs in {args.out}/"
        + ("; keep anonymisation-key.json apart from what evaluators see" if args.anonymize else ""),
        file=sys.stderr,
    )
    return EXIT_FAILED if result.failed else EXIT_OK


def _slack(args: argparse.Namespace) -> int:
    import uvicorn

    _check_listen_options(args)
    settings = _load_settings()
    if not settings.slack_enabled:
        raise BadInputError(
            "the Slack bot needs REVIEWER_SLACK_BOT_TOKEN and REVIEWER_SLACK_SIGNING_SECRET", code="missing_slack"
        )
    uvicorn.run(
        "reviewer.api.app:create_slack_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="info",
        **_uvicorn_logging(settings),
    )
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


COMMANDS = {
    "review": _review,
    "eval": _eval,
    "eval-diff": _eval_diff,
    "bulk": _bulk,
    "serve": _serve,
    "slack": _slack,
    "schema": _schema,
    "rubrics": _rubrics,
}


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
