"""Extraction speed: ms per page on the samples and on a generated 200-page proposal.

    python -m bench.extraction

Each document goes through read_pdf, i.e. the bounded child interpreter included; the child's fixed
start-up cost is reported separately so per-page figures are not flattered by it.
"""

import statistics
import time
from pathlib import Path

from bench.proposals import long_proposal_pdf
from reviewer.config import IngestSettings
from reviewer.documents import read_pdf
from reviewer.pdf_extract import extract

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
REPEATS = 3


def best_of(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    limits = IngestSettings()
    rows = []
    for pdf in sorted(SAMPLES.glob("*.pdf")):
        data = pdf.read_bytes()
        pages = read_pdf(data, pdf.name).page_count
        rows.append(
            (
                pdf.name,
                pages,
                best_of(lambda d=data: read_pdf(d, "x", limits=limits)),
                best_of(lambda d=data: extract(d, None, 10_000)),
            )
        )
    big = long_proposal_pdf(200)
    rows.append(
        (
            "generated-200.pdf",
            200,
            best_of(lambda: read_pdf(big, "x", limits=limits)),
            best_of(lambda: extract(big, None, 10_000)),
        )
    )

    print(f"{'document':28} {'pages':>5} {'total ms':>9} {'in-process ms':>14} {'ms/page':>8}")
    for name, pages, total, inproc in rows:
        print(f"{name:28} {pages:>5} {total * 1000:>9.0f} {inproc * 1000:>14.0f} {inproc * 1000 / pages:>8.1f}")
    startup = statistics.median(total - inproc for _, _, total, inproc in rows)
    print(f"\nchild interpreter start-up (median of total - in-process): {startup * 1000:.0f} ms per document")


if __name__ == "__main__":
    main()
