"""What a user waits for at the command line, measured in one run as ratios (so a busy machine skews
both sides alike):

    python -m bench.startup [--runs 5]

1. `reviewer review samples/X.pdf --backend offline` against a bare `python -c` that imports pypdf and
   extracts the same file (goal: within 2x).
2. `reviewer --version` (goal: under 0.5 s).
3. `reviewer bulk` over already-reviewed proposals against the first run (goal: at most a third).
Each command runs in a fresh interpreter, as a user's would; medians of --runs runs. The machine's load
average is printed before and after: on a shared machine it says how far the figures can be compared.
For the review, the CPU time of every process it ran (itself and its extraction child) is printed
against the bare extraction's too: under load, wall time follows CPU time more than parallelism.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BARE = "import sys, pypdf; r = pypdf.PdfReader(sys.argv[1]); [p.extract_text() for p in r.pages]"


def timed(argv: list[str], env: dict[str, str]) -> float:
    return wall_and_cpu(argv, env)[0]


def wall_and_cpu(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time, and CPU time (user + system) of the command and every process it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def median(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time of `runs` runs, after one warm-up (an installed package has
    its bytecode compiled, as after that run)."""
    wall_and_cpu(argv, env)
    runs_ = [wall_and_cpu(argv, env) for _ in range(runs)]
    return statistics.median(w for w, _ in runs_), statistics.median(c for _, c in runs_)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", default="northwind_analytics.pdf")
    args = parser.parse_args()
    reviewer = [sys.executable, "-m", "reviewer.cli"]
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {_load()} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "REVIEWER_DATA_DIR": str(Path(tmp) / "data"), "ANTHROPIC_API_KEY": ""}
        # A user's interpreter writes bytecode; with it off every run would compile every module again.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        sample = str(SAMPLES / args.sample)
        bare, bare_cpu = median([sys.executable, "-c", BARE, sample], env, args.runs)
        review, review_cpu = median([*reviewer, "review", sample, "--backend", "offline"], env, args.runs)
        version, _ = median([*reviewer, "--version"], env, args.runs)
        print(f"bare pypdf extraction  {bare:6.2f} s   CPU {bare_cpu:5.2f} s")
        print(f"reviewer review        {review:6.2f} s   ratio {review / bare:4.2f}x   (goal <= 2x)")
        print(f"   CPU, with its child {review_cpu:6.2f} s   ratio {review_cpu / bare_cpu:4.2f}x")
        print(f"reviewer --version     {version:6.2f} s              (goal < 0.5 s)")

        folder = Path(tmp) / "rfp"
        folder.mkdir()
        for pdf in sorted([*SAMPLES.glob("*.pdf"), *SAMPLES.glob("heldout/*.pdf")]):
            shutil.copy(pdf, folder / pdf.name)
        bulk = [*reviewer, "bulk", str(folder), "--backend", "offline", "--no-progress", "--out", str(Path(tmp) / "o")]
        first = timed(bulk, env)
        rerun = statistics.median(timed(bulk, env) for _ in range(args.runs))
        count = len(list(folder.glob("*.pdf")))
        print(f"reviewer bulk, first   {first:6.2f} s   ({count} proposals)")
        print(f"reviewer bulk, rerun   {rerun:6.2f} s   ratio {rerun / first:4.2f}   (goal <= 0.33)")
    print(f"load average {_load()} after the runs")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
