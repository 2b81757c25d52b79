"""reviewer bulk PATH...: every proposal of an RFP reviewed under one rubric, and the vendors compared."""

import argparse
from pathlib import Path

from reviewer.cli.context import EXIT_FAILED, EXIT_OK, Context, note


def add_parser(sub) -> None:
    bulk = sub.add_parser("bulk", help="review every proposal of an RFP and compare the vendors")
    bulk.add_argument("paths", nargs="+", type=Path, help="folders, zip files or PDF files")
    bulk.add_argument("--rubric", default="default", help="rubric name, id or file")
    bulk.add_argument(
        "--backend",
        default=None,
        help="anthropic | bedrock | vertex | openai_compatible | offline (default: as for review)",
    )
    bulk.add_argument("--model", default=None, help="model for the chosen backend")
    bulk.add_argument("--concurrency", type=int, default=4, help="proposals reviewed at once")
    bulk.add_argument("--out", type=Path, default=Path("comparison"), help="output folder")
    bulk.add_argument("--force", action="store_true", help="review again documents already reviewed")
    bulk.add_argument("--vendors", type=Path, default=None, help="file name -> vendor name (YAML, JSON or CSV)")
    bulk.add_argument("--anonymize", action="store_true", help="'Vendor A, B, ...' in every output")
    bulk.add_argument(
        "--mandatory",
        choices=("flag", "exclude"),
        default="flag",
        help="a proposal failing a mandatory RFP requirement: flagged in the ranking (default) or left out of it",
    )
    bulk.add_argument(
        "--blind",
        action="store_true",
        help="blind model input: names, products, people, emails, phones and URLs become placeholders in what is sent",
    )
    bulk.add_argument("--batch-api", action="store_true", help="one Anthropic Message Batch (half price, slower)")
    bulk.add_argument(
        "--estimate",
        action="store_true",
        help="print what reviewing these proposals with Claude would cost, and send nothing; no key needed",
    )
    bulk.add_argument("--no-progress", action="store_true")


def estimate_bulk(sources: list, rubric, settings) -> int:
    from reviewer.documents import read_document
    from reviewer.errors import BadInputError
    from reviewer.grading.estimate import describe, empty_estimate, estimate_review

    total = empty_estimate(settings)
    unreadable = 0
    for source in sources:
        try:
            data = source.read(settings.ingest.max_file_bytes)
            document = read_document(data, source.name, limits=settings.ingest)
        except (BadInputError, OSError) as exc:
            unreadable += 1
            reason = getattr(exc, "message", None) or str(exc)
            note(f"not counted: {reason if reason.startswith(source.name) else f'{source.name}: {reason}'}")
            continue
        total += estimate_review(document, rubric, settings)
    print(describe(total))
    return EXIT_FAILED if unreadable else EXIT_OK


def run(args: argparse.Namespace, context: Context) -> int:
    from reviewer.errors import BadInputError
    from reviewer.exports import replay_of
    from reviewer.output import check_writable
    from reviewer.rerun import run_digest, run_given, store_fingerprint
    from reviewer.rubric import RubricCatalog
    from reviewer.sources import close_sources, collect_sources, load_vendor_mapping

    if args.concurrency < 1:
        raise BadInputError("--concurrency must be at least 1", code="bad_option")
    settings = context.model_settings(args)
    settings = settings.updated(jobs={"workers": args.concurrency})
    catalog, rubric_name = RubricCatalog.from_settings(settings).for_reference(args.rubric)
    rubric = catalog.load(rubric_name)
    sources = collect_sources(args.paths)
    try:
        if args.estimate:
            return estimate_bulk(sources, rubric, settings)
        vendors = load_vendor_mapping(args.vendors) if args.vendors else {}
        check_writable(args.out, folder=True)
        backend_name = context.backend_name(args)
        given = run_given(
            sources,
            settings,
            rubric_name,
            rubric,
            backend_name,
            vendors=vendors,
            blind=args.blind,
            anonymize=args.anonymize,
            mandatory=args.mandatory,
            batch_api=args.batch_api,
        )
        store_before = store_fingerprint(settings.storage.resolved_database_url)
        if not args.force and store_before is not None:
            found = replay_of(args.out, run_digest(given, store_before))
            if found is not None:  # the same inputs, an untouched store, outputs as written: nothing to do
                replay, files = found
                for line in replay.lines:
                    print(line)
                note(f"outputs unchanged since the last run: {len(files)} files")
                note(_summary(0, replay.skipped, 0, 0.0, args))
                return EXIT_OK
        return _review_and_write(args, settings, catalog, rubric_name, rubric, sources, vendors, given)
    finally:
        close_sources(sources)


def _summary(reviewed: int, skipped: int, failed: int, cost_usd: float, args: argparse.Namespace) -> str:
    counts = f"{reviewed} reviewed, {skipped} already reviewed, {failed} failed"
    key = "; keep anonymisation-key.json apart from what evaluators see" if args.anonymize else ""
    return f"{counts}; ${cost_usd:.4f}; outputs in {args.out}/{key}"


def _review_and_write(args, settings, catalog, rubric_name, rubric, sources, vendors, given) -> int:
    import asyncio

    from reviewer.comparison import anonymize
    from reviewer.exports import inputs_digest, record_replay, unchanged_outputs, write_outputs
    from reviewer.progress import Progress
    from reviewer.queue.bulk import bulk_comparison, run_bulk
    from reviewer.render.failures import describe_error
    from reviewer.rerun import replay_for_rerun

    progress = Progress(len(sources), "bulk", enabled=not args.no_progress)
    result = asyncio.run(
        run_bulk(
            sources,
            rubric_name,
            given["backend"],
            settings,
            catalog,
            force=args.force,
            vendors=vendors,
            progress=progress,
            on_event=lambda line: note(f"failed: {line}"),
            batch_api=args.batch_api,
            blind=args.blind,
        )
    )
    entries, key = anonymize(result.entries) if args.anonymize else (result.entries, None)
    comparison = bulk_comparison(settings, entries, rubric, anonymized=args.anonymize, mandatory=args.mandatory)
    lines = []
    for row in comparison.rows:
        rank = "-" if row.rank is None else f"{row.rank}{'=' if row.tied else ''}"
        if row.status != "done":
            line = "failed: " + describe_error(row.error)
        else:
            score = "—" if row.overall_score is None else f"{row.overall_score:.1f}"
            line = f"{score}  red flags {row.red_flags}"
        files = f"  [{', '.join(row.file_names)}]" if len(row.file_names) > 1 else ""
        lines.append(f"{rank:>4}  {row.vendor:30}  {line}{files}")
    replay = replay_for_rerun(
        given,
        settings.storage.resolved_database_url,
        result.settled,
        result.proposals,
        lines,
        result.jobs,
        clean=not (args.force or result.failed),
    )
    digest = inputs_digest(comparison, entries, key, given)
    if (unchanged := unchanged_outputs(args.out, digest)) is not None:
        note(f"outputs unchanged since the last run: {len(unchanged)} files")
        record_replay(args.out, replay)
    else:
        write_outputs(args.out, comparison, entries, key, digest=digest, replay=replay)
    for line in lines:
        print(line)
    note(_summary(result.reviewed, result.skipped, result.failed, result.usage.estimated_cost_usd, args))
    return EXIT_FAILED if result.failed else EXIT_OK
