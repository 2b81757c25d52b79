"""Excerpt mode: its token saving on the generated 200-page proposal, and how much gold evidence
the excerpts keep.

    python -m bench.excerpts [PATH-TO-ContractNLI-dev.json]

1. Saving: the document tokens one review sends in whole-document mode (the document in every call,
   written to the cache once and read by the other calls) against excerpt mode (each group of
   criteria gets its own excerpts). Tokens are estimated at 4 characters each, as the backend's
   budget check does.
2. Evidence kept: with excerpt mode forced on every document of ContractNLI dev and the samples,
   the share of labels with gold evidence (entailed or contradicted; met, partial or red flag) whose
   evidence is among the excerpts that criterion's call would get, and the share of the text each
   call gets. These documents are short, so the excerpts cover much of them; the figure bounds what
   retrieval can lose, not what a 200-page document loses.
"""

import sys
from pathlib import Path

from bench.offline_calibration import DEFAULT_PATH
from bench.proposals import long_proposal_pdf
from reviewer.config import Settings
from reviewer.documents import read_pdf
from reviewer.evaluation.datasets import LabelledSet, load_contractnli, load_samples
from reviewer.grading.anthropic_backend import split_into_groups
from reviewer.grading.excerpts import estimate_tokens, render_excerpts, select_passages
from reviewer.grading.offline import index_document
from reviewer.grading.prompts import render_document
from reviewer.review import Grade
from reviewer.rubric import load_rubric


def evidence_kept(labelled: LabelledSet, settings: Settings, per_criterion: int) -> tuple[float, float, int]:
    """(share of evidenced labels whose gold evidence the excerpts keep, share of text per call, labels)."""
    groups = split_into_groups(labelled.rubric.criteria, settings.grading.criteria_per_call)
    kept = total = 0
    sent_chars = document_chars = 0
    for item in labelled.documents():
        passages, index = index_document(item.document)
        document_chars += sum(len(p.text) for p in passages) * len(groups)
        for group in groups:
            selected = select_passages(group, passages, index, per_criterion)
            sent_chars += sum(len(p.text) for p in selected)
            ids = {c.id for c in group}
            for label in item.labels:
                if label.criterion_id not in ids or label.grade is Grade.MISSING or not label.evidence:
                    continue
                total += 1
                kept += any(
                    p.page == span.page and p.start < span.end and span.start < p.end
                    for p in selected
                    for span in label.evidence
                )
    return kept / total, sent_chars / document_chars, total


def main() -> None:
    settings = Settings()
    rubric = load_rubric()
    document = read_pdf(long_proposal_pdf(200), "generated-200.pdf")
    groups = split_into_groups(rubric.criteria, settings.grading.criteria_per_call)
    whole = estimate_tokens(render_document(document))
    passages, index = index_document(document)
    excerpts = [
        estimate_tokens(
            render_excerpts(
                document, select_passages(g, passages, index, settings.grading.excerpt_passages_per_criterion), passages
            )
        )
        for g in groups
    ]
    billed_whole = (
        whole * settings.anthropic.cache_write_multiplier
        + whole * settings.anthropic.cache_read_multiplier * (len(groups) - 1)
    )
    billed_excerpts = sum(excerpts) * settings.anthropic.cache_write_multiplier
    print(f"200-page proposal: {document.page_count} pages, ~{whole:,} document tokens, {len(groups)} calls")
    print(
        f"  whole document per call: {whole:,} tokens sent per call; billed as ~{billed_whole:,.0f} "
        "input-token equivalents (one cache write, then cache reads)"
    )
    print(f"  excerpts per call: {', '.join(f'{e:,}' for e in excerpts)} tokens; billed ~{billed_excerpts:,.0f}")
    print(
        f"  saving: {1 - billed_excerpts / billed_whole:.1%} of billed document tokens, "
        f"{1 - max(excerpts) / whole:.1%} of the largest prompt (budget {settings.grading.document_token_budget:,})"
    )

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    print("\nevidence kept by excerpts (excerpt mode forced on short documents)")
    for labelled in (load_contractnli(path), load_samples()):
        for per_criterion in sorted({settings.grading.excerpt_passages_per_criterion, 4, 2}, reverse=True):
            kept, sent, labels = evidence_kept(labelled, settings, per_criterion)
            print(
                f"  {labelled.name:22} {per_criterion} passages per criterion: {kept:.3f} of {labels} labels' "
                f"evidence kept, {sent:.0%} of the text per call"
            )


if __name__ == "__main__":
    main()
