"""Clarification rounds in the report: per later round, what changed per criterion since the round before
(final grades before -> after, points, and the answer's quotes that closed the gap, by file and page).
Earlier rounds are shown as they were decided; nothing here changes them."""

from html import escape
from typing import TYPE_CHECKING

from reviewer.render.escape import markdown_text
from reviewer.review import Citation, Grade

if TYPE_CHECKING:  # annotations only: a review without rounds never imports reviewer.rounds
    from reviewer.rounds import CriterionChange, RoundSummary

GRADE_WORDS = {Grade.MET: "met", Grade.PARTIAL: "partial", Grade.MISSING: "missing", Grade.RED_FLAG: "red flag"}


def _grade(grade: Grade | None) -> str:
    return GRADE_WORDS[grade] if grade else "error"


def _points(change: "CriterionChange") -> str:
    return "?" if change.score_change is None else f"{change.score_change:+g}"


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def where(citation: Citation) -> str:
    """'answer.pdf p. 2' for a quote of a round's file; 'p. 4' when the quote names no file."""
    if citation.document:
        return f"{citation.document} p. {citation.document_page or citation.page}"
    return f"p. {citation.page}"


def _headline(view: "RoundSummary") -> str:
    if view.status != "done":
        return f"Round {view.number}: {view.file_name} ({view.status})"
    text = f"Round {view.number}: {view.file_name}, score {_score(view.overall_score)}"
    if view.compared_with is not None and view.score_change is not None and view.overall_score is not None:
        before = view.overall_score - view.score_change
        text += f" (round {view.compared_with}: {_score(before)}, {view.score_change:+.1f})"
    return text


def later_rounds(rounds: list["RoundSummary"], shown: int) -> list["RoundSummary"]:
    """The rounds after the first, up to the round the report shows."""
    return [r for r in rounds if 1 < r.number <= shown]


def rounds_markdown(rounds: list["RoundSummary"], shown: int) -> list[str]:
    later = later_rounds(rounds, shown)
    if not later:
        return []
    out = [
        "## Clarification rounds",
        "",
        f"This report shows round {shown}'s grades. Each earlier round is kept as it was decided.",
        "",
    ]
    for view in later:
        out += [f"### {markdown_text(_headline(view))}", ""]
        changed = [c for c in view.changes if c.changed]
        if view.status == "done" and view.compared_with is not None:
            if changed:
                out += [
                    f"| Criterion | Round {view.compared_with} | Round {view.number} | Points | What closed the gap |",
                    "|---|---|---|---|---|",
                ]
                for c in changed:
                    closed = "; ".join(f"{markdown_text(where(q))}: “{markdown_text(q.quote)}”" for q in c.closed_by)
                    out.append(
                        f"| {markdown_text(c.title)} (`{c.criterion_id}`) | {_grade(c.previous_grade)} "
                        f"| {_grade(c.current_grade)} | {_points(c)} | {closed or '—'} |"
                    )
                out.append("")
            unchanged = len(view.changes) - len(changed)
            if unchanged:
                out += [f"{unchanged} of {len(view.changes)} criteria unchanged.", ""]
    return out


def rounds_html(rounds: list["RoundSummary"], shown: int) -> list[str]:
    later = later_rounds(rounds, shown)
    if not later:
        return []
    out = [
        "<h2>Clarification rounds</h2>",
        f"<p>This report shows round {shown}'s grades. Each earlier round is kept as it was decided.</p>",
    ]
    for view in later:
        out.append(f"<h3>{escape(_headline(view))}</h3>")
        changed = [c for c in view.changes if c.changed]
        if view.status != "done" or view.compared_with is None:
            continue
        if changed:
            out.append(
                f"<table><tr><th>Criterion</th><th>Round {view.compared_with}</th><th>Round {view.number}</th>"
                "<th>Points</th><th>What closed the gap</th></tr>"
            )
            for c in changed:
                closed = "; ".join(f"{escape(where(q))}: “{escape(q.quote)}”" for q in c.closed_by) or "—"
                out.append(
                    f"<tr><td>{escape(c.title)}</td><td>{_grade(c.previous_grade)}</td>"
                    f"<td>{_grade(c.current_grade)}</td><td>{_points(c)}</td><td>{closed}</td></tr>"
                )
            out.append("</table>")
        unchanged = len(view.changes) - len(changed)
        if unchanged:
            out.append(f"<p>{unchanged} of {len(view.changes)} criteria unchanged.</p>")
    return out
