"""A self-contained HTML report (inline CSS, no scripts, no network), the same content as the Markdown."""

from html import escape
from typing import TYPE_CHECKING

from reviewer.render.markdown import FLAG_LABELS, VERDICT_LABELS, grade_label
from reviewer.render.rounds import rounds_html, where
from reviewer.render.wording import OFFLINE_BANNER, OFFLINE_TITLE, open_question, plural
from reviewer.review import FindingFlag, Review

if TYPE_CHECKING:  # annotations only: a review without rounds never imports reviewer.rounds
    from reviewer.rounds import RoundSummary

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1d2433;line-height:1.5}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #d5d9e0;padding:.4rem .6rem;
text-align:left;vertical-align:top}th{background:#f3f5f8}.banner{background:#fff6d6;border:1px solid #e8cf6d;
padding:.6rem 1rem;border-radius:6px}.warn{color:#8a4b00}blockquote{margin:.5rem 0;padding:.3rem .8rem;
border-left:4px solid #5b8def;background:#f7f9fd}blockquote.rejected{border-color:#c44;background:#fdf5f5;
text-decoration:line-through}.meta{color:#5b6475;font-size:.9rem}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def render_html(review: Review, rounds: list["RoundSummary"] | None = None) -> str:
    title = review.vendor_name or review.document.file_name
    score = f"{review.overall_score:.0f}/100" if review.overall_score is not None else "n/a"
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Proposal review: {_e(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Proposal review: {_e(title)}</h1>",
    ]
    if review.offline:
        out.append(f"<p class='banner'><strong>{_e(OFFLINE_TITLE)}</strong> {_e(OFFLINE_BANNER)}</p>")
    out.append(
        "<ul>"
        f"<li><strong>Document:</strong> {_e(review.document.file_name)} ({plural(review.document.pages, 'page')})</li>"
        f"<li><strong>Rubric:</strong> {_e(review.rubric.title)} "
        f"({_e(review.rubric.id)} v{_e(review.rubric.version)})</li>"
        f"<li><strong>Overall score:</strong> {score}{'' if review.score_complete else ' (incomplete)'}</li>"
        f"<li><strong>Verdict:</strong> {_e(VERDICT_LABELS[review.verdict.value])}</li>"
        + (
            f"<li><strong>Round:</strong> {review.round} (the proposal with the vendor's answers)</li>"
            if review.round > 1
            else ""
        )
        + f"<li><strong>Red flags:</strong> {review.red_flag_count} · <strong>Unsupported:</strong> "
        f"{review.unsupported_count} · <strong>Errors:</strong> {review.error_count}</li></ul>"
    )
    if review.warnings:
        out.append("<h2>Warnings</h2><ul>")
        out += [f"<li class='warn'><strong>{_e(w.code)}</strong>: {_e(w.message)}</li>" for w in review.warnings]
        out.append("</ul>")
    out.append(
        "<h2>Summary</h2><table><tr><th>Criterion</th><th>Kind</th><th>Weight</th><th>Grade</th>"
        "<th>Evidence pages</th><th>Notes</th></tr>"
    )
    for f in review.findings:
        pages = ", ".join(str(p) for p in sorted({c.page for c in f.verified_citations})) or "—"
        notes = "; ".join(FLAG_LABELS[flag] for flag in f.flags)
        out.append(
            f"<tr><td>{_e(f.title)}</td><td>{_e(f.kind)}</td><td>{f.weight:g}</td><td>{_e(grade_label(f))}</td>"
            f"<td>{pages}</td><td>{_e(notes)}</td></tr>"
        )
    out.append("</table>")
    out += rounds_html(rounds or [], review.round)
    out.append("<h2>Findings</h2>")
    for f in review.findings:
        out.append(f"<h3>{_e(f.title)} — {_e(grade_label(f))}</h3>")
        if f.error:
            out.append(f"<p>Could not be graded: {_e(f.error)}</p>")
            continue
        if FindingFlag.UNSUPPORTED in f.flags:
            out.append(
                "<p class='warn'><strong>Unsupported:</strong> no quote could be verified in the document; "
                "a person must check this grade. It earns no points in the score.</p>"
            )
        out.append(f"<p>{_e(f.rationale)}</p>")
        for c in f.citations:
            if c.verified:
                found = _e(where(c)) + (f" (cited as p. {c.cited_page})" if c.cited_page else "")
                out.append(f"<blockquote>“{_e(c.quote)}” — {found}, verified</blockquote>")
            else:
                out.append(
                    f"<blockquote class='rejected'>“{_e(c.quote)}”</blockquote>"
                    f"<p class='meta'>Not accepted as evidence: {_e(c.note or 'not verified')}</p>"
                )
        if question := open_question(f):
            out.append(f"<p><strong>Ask the vendor:</strong> {_e(question)}</p>")
    questions = [(f, q) for f in review.findings if (q := open_question(f))]
    if questions:
        out.append("<h2>Questions to send the vendor</h2><ol>")
        out += [f"<li><strong>{_e(f.title)}</strong>: {_e(q)}</li>" for f, q in questions]
        out.append("</ol>")
    u = review.usage
    out.append(
        f"<p class='meta'>Backend {_e(review.backend)}, model {_e(review.model or 'none (offline)')}, prompt "
        f"{_e(review.prompt_version or '-')}; {plural(u.calls, 'model call')}; "
        f"estimated cost ${u.estimated_cost_usd:.4f}. "
        f"Reviewed {review.created_at:%Y-%m-%d %H:%M} UTC.</p></body></html>"
    )
    return "\n".join(out)
