"""Zip inputs of a bulk run: 20 PDFs among 100,000 filler entries.

    python -m bench.zip_members

Times collect_sources on that zip as shipped (refused from its end record, before the directory is
parsed: every member counts towards the 1,000-member limit), then with the limit lifted, collecting
and reading all 20 PDFs through the one open handle, against reopening the zip for every PDF as bulk
did before.
"""

import tempfile
import time
import zipfile
from pathlib import Path

from reviewer import sources
from reviewer.sources import close_sources, collect_sources

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
PDFS, FILLER = 20, 100_000
MAX_BYTES = 50_000_000


def build(path: Path) -> None:
    pdf = (SAMPLES / "coral_data.pdf").read_bytes()
    with zipfile.ZipFile(path, "w") as z:
        for i in range(FILLER):
            z.writestr(f"filler/{i:06d}.txt", b"")
            if i % (FILLER // PDFS) == 0:
                z.writestr(f"proposals/p{i:06d}.pdf", pdf + str(i).encode())


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "filler.zip"
        build(path)
        refused_s, found = timed(lambda: collect_sources([path]))
        print(f"zip: {PDFS} PDFs among {FILLER:,} filler entries, {path.stat().st_size / 1e6:.1f} MB")
        print(f"collect_sources as shipped: {refused_s:.2f} s -> {found[0].error}")

        sources.MAX_ZIP_MEMBERS = 10 * FILLER

        def collect_and_read() -> int:
            found = collect_sources([path])
            total = sum(len(s.read(MAX_BYTES)) for s in found)
            close_sources(found)
            return total

        once_s, _ = timed(collect_and_read)
        print(f"limit lifted, collect + read all {PDFS} (one open): {once_s:.2f} s")

        def reopen_per_member() -> int:
            with zipfile.ZipFile(path) as archive:
                names = [m.filename for m in archive.infolist() if m.filename.endswith(".pdf")]
            total = 0
            for name in names:
                with zipfile.ZipFile(path) as archive:
                    total += len(archive.read(name))
            return total

        reopen_s, _ = timed(reopen_per_member)
        print(f"the same, reopening the zip per PDF (before): {reopen_s:.2f} s ({reopen_s / once_s:.0f}x)")


if __name__ == "__main__":
    main()
