"""Bulk review at scale with a mocked model of fixed latency.

    python -m bench.bulk [--documents 100] [--concurrency 10] [--latency 0.5]

Generates distinct proposals, starts a fake Anthropic API on 127.0.0.1, and runs `reviewer bulk` (a
child process per run, so its peak memory is its own) on half and then all of the documents, then
runs the full set again (everything already reviewed). Prints wall time against the ideal
(calls / concurrency) x latency, and peak memory (RSS) per run: flat memory means no run holds the
whole batch.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.proposals import long_proposal_pdf
from tests.fake_anthropic_server import FakeAnthropicServer


def child(argv: list[str]) -> None:
    from reviewer.cli import main

    code = main(argv)
    print(f"maxrss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
    sys.exit(code)


def run_bulk(folder: Path, data_dir: Path, out: Path, concurrency: int, model_url: str) -> tuple[float, int, str]:
    env = {
        **os.environ,
        "REVIEWER_DATA_DIR": str(data_dir),
        "ANTHROPIC_API_KEY": "sk-ant-bench-fake-key",
        "ANTHROPIC_BASE_URL": model_url,
        "REVIEWER_SDK_MAX_RETRIES": "0",
    }
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bulk",
            "--child",
            "bulk",
            str(folder),
            "--backend",
            "anthropic",
            "--concurrency",
            str(concurrency),
            "--out",
            str(out),
            "--no-progress",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    rss = int(done.stderr.rsplit("maxrss_kb=", 1)[1].split()[0]) if "maxrss_kb=" in done.stderr else -1
    summary = next((line for line in done.stderr.splitlines() if "reviewed" in line), done.stderr[-300:])
    return elapsed, rss, summary


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropicServer(delay=args.latency) as model:
        root = Path(tmp)
        half, full = root / "half", root / "full"
        half.mkdir()
        full.mkdir()
        for i in range(args.documents):
            pdf = long_proposal_pdf(3, seed=i)
            (full / f"proposal_{i:03}.pdf").write_bytes(pdf)
            if i < args.documents // 2:
                (half / f"proposal_{i:03}.pdf").write_bytes(pdf)
        print(
            f"{args.documents} generated 3-page proposals, concurrency {args.concurrency}, "
            f"model latency {args.latency:g} s per call, 2 calls per proposal"
        )
        for label, folder, data in (
            ("half", half, root / "data-half"),
            ("all", full, root / "data-full"),
            ("all again", full, root / "data-full"),
        ):
            count = len(list(folder.iterdir()))
            before = model.requests
            elapsed, rss, summary = run_bulk(folder, data, root / f"out-{label}", args.concurrency, model.url)
            calls = model.requests - before
            ideal = calls / args.concurrency * args.latency / 1 if calls else 0
            ratio = f"{elapsed / ideal:.2f}x the ideal {ideal:.1f} s" if ideal else "no model calls"
            print(
                f"  {label:9} {count:>4} docs: {elapsed:6.1f} s, {calls:>4} model calls, {ratio}; "
                f"peak RSS {rss / 1024:.0f} MB; {summary.replace('reviewer: ', '')}"
            )


if __name__ == "__main__":
    main()
