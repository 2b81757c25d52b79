"""reviewer eval and reviewer eval-diff: measure a backend on labelled documents, compare two runs."""

import argparse
import json
from itertools import islice
from pathlib import Path

from reviewer.cli.context import EXIT_FAILED, EXIT_OK, Context, note


def add_parsers(sub) -> None:
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
    evaluation.add_argument(
        "--backend",
        default=None,
        help="anthropic | bedrock | vertex | openai_compatible | offline (default: as for review)",
    )
    evaluation.add_argument("--model", default=None, help="model for the chosen backend")
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
    evaluation.add_argument(
        "--blind",
        action="store_true",
        help="blind model input (names, products, people, contact details and URLs as placeholders): "
        "run with and without it to measure what it costs",
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


def _estimate_eval(args: argparse.Namespace, context: Context, labelled_sets: list) -> int:
    from reviewer.grading.estimate import describe, empty_estimate, estimate_review

    settings = context.model_settings(args)
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


def run_eval(args: argparse.Namespace, context: Context) -> int:
    from reviewer.errors import BadInputError
    from reviewer.evaluation.datasets import load_contractnli, load_samples
    from reviewer.evaluation.run_diff import PredictionLine
    from reviewer.evaluation.runner import evaluate, evaluate_in_batch
    from reviewer.masking import MaskingPolicy
    from reviewer.output import check_writable, emit, write_atomically
    from reviewer.render.evaluation import render_eval_table

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
        return _estimate_eval(args, context, labelled_sets)
    if args.batch_api and args.backend is None:
        args.backend = "anthropic"
    backend = context.backend(args)
    masking = MaskingPolicy.from_settings(context.settings.grading, blind=args.blind)
    reports, below = [], []
    prediction_lines: list[str] = []
    if args.batch_api and backend.name != "anthropic":
        raise BadInputError("--batch-api needs the anthropic backend", code="bad_option")
    with context.recorded_egress(not backend.offline):
        for labelled in labelled_sets:
            if args.batch_api:
                state_dir = context.settings.storage.data_dir / "batches"
                report, predictions = evaluate_in_batch(
                    labelled, backend, state_dir, limit=args.limit, show_progress=not args.no_progress, masking=masking
                )
            else:
                report, predictions = evaluate(
                    labelled,
                    backend,
                    limit=args.limit,
                    concurrency=args.concurrency,
                    show_progress=not args.no_progress,
                    masking=masking,
                )
            reports.append(report)
            if report.gold_quotes_not_found:
                note(
                    f"warning: {labelled.name}: {len(report.gold_quotes_not_found)} gold quotes are not in "
                    f"their documents' text and count as no evidence; first: {report.gold_quotes_not_found[0]}"
                )
            grader = " ".join(filter(None, (report.backend, report.model)))
            prediction_lines += [PredictionLine.of(p, labelled.name, grader).model_dump_json() for p in predictions]
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
    emit(text, args.output)
    for line in below:
        note(f"below the bar: {line}")
    return EXIT_FAILED if below else EXIT_OK


def run_eval_diff(args: argparse.Namespace, context: Context) -> int:
    from reviewer.evaluation.run_diff import diff_runs, read_predictions
    from reviewer.output import check_writable, emit
    from reviewer.render.evaluation import render_diff_table

    if args.output:
        check_writable(args.output)
    diff = diff_runs(
        read_predictions(args.baseline), read_predictions(args.candidate), (str(args.baseline), str(args.candidate))
    )
    text = diff.model_dump_json(indent=2) + "\n" if args.format == "json" else render_diff_table(diff)
    emit(text, args.output)
    if args.fail_if_worse and diff.verdict == "worse":
        note(
            f"the candidate is worse: accuracy {diff.difference:+.3f} "
            f"({diff.difference_interval.low:+.3f} to {diff.difference_interval.high:+.3f})"
        )
        return EXIT_FAILED
    return EXIT_OK
