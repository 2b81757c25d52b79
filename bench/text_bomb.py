"""A small PDF whose text expands hugely (issue 13): time and peak memory to refuse it, and the cost
of the parent's text steps (clean-up, passages, verification) at the document limit.

    python -m bench.text_bomb

Each scenario runs in a fresh interpreter so its peak RSS is its own: the parent's (ru_maxrss of
the process) and the extraction child's (ru_maxrss of its children).
"""

import json
import resource
import subprocess
import sys
import time

from tests.pdfs import text_bomb

SCENARIOS = {
    "8 pages x 4.6 M chars, default limits": (8, 4_600_000, {}),
    "1 page x 1.6 M chars, no limits (what ingest did before)": (
        1,
        1_600_000,
        {"max_page_chars": 10**12, "max_document_chars": 10**12},
    ),
}
PATHOLOGICAL = {
    "repeated sentence": "All work and no play. ",
    "one word": "word ",
    "list items": "\n- a",
    "hyphenated line ends": "ab-\n",
    "dots": ". ",
}


def one(pages: int, chars: int, limits: dict) -> dict:
    from reviewer.config import IngestSettings
    from reviewer.documents import read_pdf
    from reviewer.errors import IngestError

    data = text_bomb(pages=pages, chars_per_page=chars)
    start = time.perf_counter()
    try:
        document = read_pdf(data, "bomb.pdf", limits=IngestSettings(timeout_seconds=600, **limits))
        outcome = f"read, {document.char_count:,} characters"
    except IngestError as exc:
        outcome = f"{exc.code}: {exc.message}"
    return {
        "pdf_bytes": len(data),
        "seconds": time.perf_counter() - start,
        "parent_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "child_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "outcome": outcome,
    }


def text_steps(unit: str, chars: int) -> tuple[float, float, float]:
    from reviewer.citations import QuoteLocator
    from reviewer.cleanup import clean_page_text
    from reviewer.documents import Document, Page
    from reviewer.passages import split_passages

    raw = unit * (chars // len(unit))
    start = time.perf_counter()
    text = clean_page_text(raw)
    cleaned = time.perf_counter()
    document = Document(file_name="x", sha256="0", page_count=1, pages=[Page(number=1, text=text)])
    split_passages(document)
    split = time.perf_counter()
    locator = QuoteLocator(document)
    for quote in ("All work and no play ... is never said here", "word word word ... nothing of that kind"):
        locator.locate(1, quote)
    return cleaned - start, split - cleaned, time.perf_counter() - split


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(one(*json.loads(sys.argv[2]))))
        return
    print(f"{'scenario':58} {'PDF KB':>7} {'seconds':>8} {'parent MB':>10} {'child MB':>9}  outcome")
    for name, args in SCENARIOS.items():
        out = subprocess.run(
            [sys.executable, "-m", "bench.text_bomb", "--one", json.dumps(args)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout)
        print(
            f"{name:58} {r['pdf_bytes'] / 1024:>7.0f} {r['seconds']:>8.2f} {r['parent_mb']:>10.0f} "
            f"{r['child_mb']:>9.0f}  {r['outcome']}"
        )
    print("\nparent text steps on one pathological page (seconds: clean-up / passages / verifying two quotes)")
    print(f"{'text':22} {'750 k chars':>24} {'3 M chars (the limit)':>26}  ratio")
    for name, unit in PATHOLOGICAL.items():
        small, big = text_steps(unit, 750_000), text_steps(unit, 3_000_000)
        cells = [" / ".join(f"{t:.2f}" for t in row) for row in (small, big)]
        print(f"{name:22} {cells[0]:>24} {cells[1]:>26}  {sum(big) / max(sum(small), 1e-9):.1f}x")


if __name__ == "__main__":
    main()
