"""Token saving of excerpt mode on the generated 200-page proposal.

    python -m bench.excerpts

Compares the document tokens one review sends in whole-document mode (the document in every call,
written to the cache once and read by the other calls) with excerpt mode (each group of criteria
gets its own excerpts). Tokens are estimated at 4 characters each, as the backend's budget check does.
"""

from bench.proposals import long_proposal_pdf
from reviewer.config import Settings
from reviewer.documents import read_pdf
from reviewer.grading.anthropic_backend import split_into_groups
from reviewer.grading.excerpts import estimate_tokens, render_excerpts, select_passages
from reviewer.grading.offline import index_document
from reviewer.grading.prompts import render_document
from reviewer.rubric import load_rubric


def main() -> None:
    settings = Settings(_env_file=None)
    rubric = load_rubric()
    document = read_pdf(long_proposal_pdf(200), "generated-200.pdf")
    groups = split_into_groups(rubric.criteria, settings.criteria_per_call)
    whole = estimate_tokens(render_document(document))
    passages, index = index_document(document)
    excerpts = [
        estimate_tokens(
            render_excerpts(
                document, select_passages(g, passages, index, settings.excerpt_passages_per_criterion), passages
            )
        )
        for g in groups
    ]
    billed_whole = whole * settings.cache_write_multiplier + whole * settings.cache_read_multiplier * (len(groups) - 1)
    billed_excerpts = sum(excerpts) * settings.cache_write_multiplier
    print(f"200-page proposal: {document.page_count} pages, ~{whole:,} document tokens, {len(groups)} calls")
    print(
        f"  whole document per call: {whole:,} tokens sent per call; billed as ~{billed_whole:,.0f} "
        "input-token equivalents (one cache write, then cache reads)"
    )
    print(f"  excerpts per call: {', '.join(f'{e:,}' for e in excerpts)} tokens; billed ~{billed_excerpts:,.0f}")
    print(
        f"  saving: {1 - billed_excerpts / billed_whole:.1%} of billed document tokens, "
        f"{1 - max(excerpts) / whole:.1%} of the largest prompt (budget {settings.document_token_budget:,})"
    )


if __name__ == "__main__":
    main()
