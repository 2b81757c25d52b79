"""reviewer purge: apply the retention period (REVIEWER_RETENTION_DAYS, or --days) to the local job store
once: reviews older than it, their rounds and panel grades, and the stored files nothing else needs are
deleted; the audit trail keeps a tombstone for each review. `--dry-run` lists what would go and deletes
nothing."""

import argparse
import json

from reviewer.cli.context import EXIT_OK, Context, note

MAX_DAYS = 36_500  # as REVIEWER_RETENTION_DAYS allows


def add_parser(sub) -> None:
    parser = sub.add_parser("purge", help="delete reviews and stored files older than the retention period")
    parser.add_argument(
        "--days", type=int, default=None, help="keep this many days instead of REVIEWER_RETENTION_DAYS (0: keep all)"
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted; delete nothing")
    parser.add_argument("--format", choices=("table", "json"), default="table")


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def print_report(report, out=print) -> None:
    verb = "would delete" if report.dry_run else "deleted"
    if report.dry_run:
        for review in report.reviews:
            when = review.last_activity.strftime("%Y-%m-%d")
            out(f"{verb} review {review.id} ({review.file_name}, {review.status}, last activity {when})")
        for stored in report.files:
            out(f"{verb} file {stored.sha256} ({_size(stored.size_bytes)})")
    summary = ", ".join(
        [
            _plural(len(report.reviews), "review"),
            _plural(report.rounds, "clarification round"),
            f"{_plural(len(report.files), 'stored file')} ({_size(report.freed_bytes)})",
            _plural(report.batches, "batch", "batches"),
        ]
    )
    cutoff = report.cutoff.strftime("%Y-%m-%d %H:%M UTC")
    out(f"{verb} {summary}: last activity before {cutoff} ({report.days} days)")
    if not report.dry_run and report.reviews:
        out(f"the audit trail keeps a review_deleted tombstone (actor retention) for each of the {len(report.reviews)}")


def run(args: argparse.Namespace, context: Context) -> int:
    from reviewer.errors import BadInputError
    from reviewer.queue.services import Services

    days = args.days if args.days is not None else context.settings.storage.retention_days
    if days is not None and not 0 <= days <= MAX_DAYS:
        raise BadInputError(f"--days must be from 0 to {MAX_DAYS:,} (100 years), got {days}", code="bad_option")
    if not days:
        note("no retention period (REVIEWER_RETENTION_DAYS unset or 0, or --days 0): nothing is deleted")
        return EXIT_OK
    services = Services.open(context.settings)
    try:
        report = services.retention.purge(days, dry_run=args.dry_run)
    finally:
        services.close()
    if args.format == "json":
        print(json.dumps(report.model_dump(mode="json") | {"freed_bytes": report.freed_bytes}, indent=2))
    else:
        print_report(report)
    return EXIT_OK
