"""Long proposals for benchmarks, generated deterministically from the sample sources."""

import random

from samples.build_samples import PAGE_BREAK, SOURCES_DIR, proposal_pdf_bytes


def _paragraphs() -> list[str]:
    paragraphs = []
    for source in sorted(SOURCES_DIR.glob("*.md")):
        for block in source.read_text(encoding="utf-8").split("\n\n"):
            lines = [ln for ln in block.splitlines() if ln and not ln.startswith(("#", "|", PAGE_BREAK))]
            if lines:
                paragraphs.append(" ".join(lines))
    return paragraphs


def long_proposal_source(pages: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    pool = _paragraphs()
    parts = ["# Generated proposal for benchmarks"]
    for page in range(1, pages + 1):
        parts.append(f"## Section {page}")
        parts.extend(rng.sample(pool, 4))
        if page < pages:
            parts.append(PAGE_BREAK)
    return "\n\n".join(parts)


def long_proposal_pdf(pages: int, seed: int = 7) -> bytes:
    return proposal_pdf_bytes(long_proposal_source(pages, seed), title=f"generated-{pages}")
