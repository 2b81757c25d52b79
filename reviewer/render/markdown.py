"""The Markdown report a procurement lead reads: summary, then each criterion with its evidence, then
the questions to send back to the vendor."""

from typing import TYPE_CHECKING

from reviewer.render.escape import markdown_text as _cell
from reviewer.render.rounds import rounds_markdown, where
from reviewer.render.wording import OFFLINE_BANNER, OFFLINE_TITLE, open_question, plural
from reviewer.review import FinalSource, Finding, FindingFlag, Grade, Review

if TYPE_CHECKING:  # annotations only: a review without rounds never imports reviewer.rounds
    from reviewer.rounds import RoundSummary

GRADE_LABELS = {
    Grade.MET: "✅ met",
    Grade.PARTIAL: "🟡 partial",
    Grade.MISSING: "⚪ missing",
    Grade.RED_FLAG: "🚩 red flag",
}
VERDICT_LABELS = {
    "strong": "Strong",
    "needs_clarification": "Needs clarification",
    "weak": "Weak",
    "red_flags": "Red flags: resolve before shortlisting",
    "incomplete": "Incomplete: some criteria could not be graded",
}
FLAG_LABELS = {
    FindingFlag.UNSUPPORTED: "unsupported: no verified quote, a person must check",
    FindingFlag.UNVERIFIED_QUOTE: "a cited quote was not found",
    FindingFlag.PAGE_CORRECTED: "page number corrected",
    FindingFlag.GRADING_ERROR: "could not be graded",
}


def grade_label(finding: Finding) -> str:
    return GRADE_LABELS[finding.grade] if finding.grade else "⛔ error"


def _evidence_pages(finding: Finding) -> str:
    pages = sorted({c.page for c in finding.verified_citations})
    return ", ".join(map(str, pages)) or "—"


def _quote_lines(finding: Finding) -> list[str]:
    lines = []
    for c in finding.citations:
        quote = _cell(c.quote)
        if c.verified:
            found = (
                _cell(where(c))
                + (" (OCR)" if c.ocr else "")
                + (f" (cited as p. {c.cited_page})" if c.cited_page else "")
            )
            lines.append(f"> “{quote}” — {found}, verified")
        else:
            lines.append(f"> ~~“{quote}”~~ — not accepted as evidence: {_cell(c.note) or 'not verified'}")
        lines.append(">")
    return lines[:-1] if lines else []


SOURCE_LABELS = {
    FinalSource.AI: "grader, unconfirmed",
    FinalSource.EVALUATOR: "evaluator",
    FinalSource.CONSENSUS: "panel consensus",
}


def _source(finding: Finding) -> str:
    """Where a final grade came from, for the summary table of a panel's review."""
    text = SOURCE_LABELS[finding.final_source]
    if finding.disagreement:
        text += ", disputed"
    return text


def _panel_lines(finding: Finding) -> list[str]:
    if not finding.assessments and finding.consensus is None:
        return []
    ai = GRADE_LABELS[finding.ai_grade] if finding.ai_grade else "⛔ error"
    lines = [f"**Grader's grade:** {ai} · **final:** {grade_label(finding)} ({_source(finding)})", ""]
    for a in finding.assessments:
        reason = f": {_cell(a.reason)}" if a.reason else ""
        lines.append(f"- {_cell(a.evaluator)} graded {GRADE_LABELS[a.grade]}{reason}")
    if finding.consensus is not None:
        c = finding.consensus
        lines.append(f"- **Consensus** by {_cell(c.lead)}: {GRADE_LABELS[c.grade]}: {_cell(c.reason)}")
    return [*lines, ""]


def render_markdown(review: Review, rounds: list["RoundSummary"] | None = None) -> str:
    """`rounds`: the review's clarification rounds (reviewer.queue.rounds), for the round-over-round changes."""
    title = review.vendor_name or review.document.file_name
    out = [f"# Proposal review: {_cell(title)}", ""]
    if review.offline:
        out += [f"> **{OFFLINE_TITLE}** {OFFLINE_BANNER}", ""]
    score = f"{review.overall_score:.0f}/100" if review.overall_score is not None else "n/a"
    out += [
        f"- **Document:** {_cell(review.document.file_name)} ({plural(review.document.pages, 'page')}, "
        f"sha256 `{review.document.sha256[:12]}…`)",
        f"- **Rubric:** {_cell(review.rubric.title)} (`{review.rubric.id}` v{_cell(review.rubric.version)})",
        f"- **Overall score:** {score}" + ("" if review.score_complete else " (incomplete)"),
        f"- **Verdict:** {VERDICT_LABELS[review.verdict.value]}",
        *([f"- **Round:** {review.round} (the proposal with the vendor's answers)"] if review.round > 1 else []),
        f"- **Red flags:** {review.red_flag_count} · **Unsupported findings:** {review.unsupported_count}"
        f" · **Errors:** {review.error_count}",
        "",
    ]
    if review.assessed:
        out += [
            f"- **Panel:** {review.confirmed_count} of {plural(len(review.findings), 'criterion', 'criteria')} "
            f"confirmed by people · {plural(review.disagreement_count, 'disagreement')}",
            "",
        ]
    if review.warnings:
        out += ["## Warnings", ""]
        out += [f"- **{_cell(w.code)}**: {_cell(w.message)}" for w in review.warnings]
        out.append("")

    out += [
        "## Summary",
        "",
        "| Criterion | Kind | Weight | Grade | Evidence pages | Notes |",
        "|---|---|---|---|---|---|",
    ]
    for f in review.findings:
        notes = "; ".join([*(FLAG_LABELS[flag] for flag in f.flags), *([_source(f)] if review.assessed else [])])
        out.append(
            f"| {_cell(f.title)} (`{f.criterion_id}`) | {f.kind} | {f.weight:g} | {grade_label(f)} | "
            f"{_evidence_pages(f)} | {_cell(notes)} |"
        )
    out.append("")
    out += rounds_markdown(rounds or [], review.round)

    out += ["## Findings", ""]
    for f in review.findings:
        out += [f"### {_cell(f.title)} — {grade_label(f)}", ""]
        if f.error:
            out += [f"Could not be graded: {_cell(f.error)}", ""]
            continue
        if FindingFlag.UNSUPPORTED in f.flags:
            out += [
                "**Unsupported:** no quote could be verified in the document; a person must check this grade. "
                "It earns no points in the score.",
                "",
            ]
        out += _panel_lines(f)
        out += [_cell(f.rationale) or "_No rationale given._", ""]
        quotes = _quote_lines(f)
        if quotes:
            out += [*quotes, ""]
        if question := open_question(f):
            out += [f"**Ask the vendor:** {_cell(question)}", ""]

    questions = [(f, q) for f in review.findings if (q := open_question(f))]
    if questions:
        out += ["## Questions to send the vendor", ""]
        out += [f"{i}. **{_cell(f.title)}**: {_cell(q)}" for i, (f, q) in enumerate(questions, 1)]
        out.append("")

    model = review.model or "none (offline)"
    u = review.usage
    out += [
        "---",
        f"Backend `{review.backend}`, model `{model}`, prompt `{review.prompt_version or '-'}`; "
        f"{plural(u.calls, 'model call')}, {u.input_tokens} input / {u.output_tokens} output tokens, "
        f"{u.cache_read_input_tokens} cache read / {u.cache_creation_input_tokens} cache write; "
        f"estimated cost ${u.estimated_cost_usd:.4f}. Reviewed {review.created_at:%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    return "\n".join(out)
