"""reviewer egress REVIEW_ID: every request the review's grading sent off this machine (host, model, bytes, the
SHA-256 of what was sent; never the content), from the local job store."""

import argparse
import json

from reviewer.cli.context import EXIT_OK, Context


def add_parser(sub) -> None:
    egress = sub.add_parser("egress", help="the requests a review sent to model hosts: when, where, bytes, hash")
    egress.add_argument("review_id", help="a review id, or a unique prefix of one")
    egress.add_argument("--format", choices=("table", "json"), default="table")
    egress.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")


def run(args: argparse.Namespace, context: Context) -> int:
    from reviewer.queue.egress import egress_log
    from reviewer.store import JobStore, make_engine

    store = JobStore(make_engine(context.settings.storage.resolved_database_url))
    try:
        log = egress_log(store, args.review_id)
    finally:
        store.engine.dispose()
    if args.format == "json":
        print(json.dumps(log.model_dump(mode="json"), indent=2))
        return EXIT_OK
    if not log.items:
        print(f"no requests left this machine for {log.review_id}")
        return EXIT_OK
    hosts = ", ".join(log.hosts)
    print(f"{log.requests} requests, {log.bytes_sent:,} bytes sent to {hosts} for {log.review_id}")
    print(f"{'time (UTC)':<19}  {'provider':<17}  {'host':<30}  {'model':<28}  {'purpose':<19}  {'bytes':>9}  sha256")
    for r in log.items:
        print(
            f"{r.at:%Y-%m-%d %H:%M:%S}  {r.provider:<17}  {r.host[:30]:<30}  {(r.model or '-')[:28]:<28}  "
            f"{r.purpose:<19}  {r.bytes_sent:>9}  {r.sha256}"
        )
    return EXIT_OK
