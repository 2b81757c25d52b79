"""Slack Block Kit messages: pure functions of reviews. Kept within Slack's limits (50 blocks a message,
3,000 characters a section, 150 a header); a long review degrades to fewer lines and a link."""

import json

from pydantic import BaseModel

from reviewer.comparison import Comparison
from reviewer.render.escape import slack_text as _escape
from reviewer.render.failures import FAILURE_REASONS as NEUTRAL_FAILURE_REASONS
from reviewer.render.markdown import VERDICT_LABELS
from reviewer.render.wording import OFFLINE_SHORT, clip, open_question, plural
from reviewer.review import Finding, Grade, Review
from reviewer.rounds import RoundSummary

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_REASON = 160
MAX_RED_FLAGS = 5
MAX_QUESTIONS = 8
EMOJI = {
    Grade.MET: ":white_check_mark:",
    Grade.PARTIAL: ":large_yellow_circle:",
    Grade.MISSING: ":white_circle:",
    Grade.RED_FLAG: ":triangular_flag_on_post:",
    None: ":no_entry:",
}


def _clip(text: str, limit: int) -> str:
    return clip(text, limit)


# Slack's own remedies where a person in a channel can do something else than at a terminal.
FAILURE_REASONS = {
    **NEUTRAL_FAILURE_REASONS,
    "encrypted": "the PDF is password-protected, and I can't open protected PDFs from Slack",
    "wrong_password": "the PDF is password-protected, and I can't open protected PDFs from Slack",
    "no_text": "the PDF has no text layer (it looks scanned): run OCR on it and share the result",
    "worker_died": "the review was interrupted; share the file again to retry",
    "internal_error": "an internal error stopped it; the team has the logs",
}


def failure_reason(code: str | None) -> str:
    """Why a review failed, in words fit for a channel; an unknown code is named, not explained."""
    if code in FAILURE_REASONS:
        return FAILURE_REASONS[code]
    return f"the review failed (`{_escape(code or 'unknown')}`)"


def failure_text(file_name: str, code: str | None) -> str:
    return f"The review of *{_escape(file_name)}* failed: {failure_reason(code)}."


def _row_failure(error: str | None) -> str:
    """A comparison row's error is "code: message" from the store, or a sentence of ours without a code."""
    code, sep, _ = (error or "").partition(":")
    return failure_reason(code) if sep or code in FAILURE_REASONS else _escape(error or "no review")


def _clip_escaped(text: str, limit: int) -> str:
    """Clipped before escaping (so no entity is cut in two), short enough once escaped."""
    clipped = _clip(text, limit)
    while len(escaped := _escape(clipped)) > limit:
        clipped = _clip(clipped, len(clipped) - 1)
    return escaped


def _section(text: str) -> dict:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _clip(text, MAX_SECTION) if "\n" not in text else text[:MAX_SECTION]},
    }


def _packed(lines: list[str], title: str) -> list[dict]:
    """Lines packed into as few sections as fit, each under the section limit."""
    blocks, current = [], f"*{title}*"
    for line in lines:
        line = line[: MAX_SECTION - len(title) - 10]
        if len(current) + 1 + len(line) > MAX_SECTION:
            blocks.append(_section(current))
            current = line
        else:
            current += "\n" + line
    blocks.append(_section(current))
    return blocks


def _reason(f: Finding) -> str:
    return _escape(_clip(f.error or f.rationale or "", MAX_REASON))


def report_url(base_url: str, review_id: str) -> str:
    return f"{base_url.rstrip('/')}/v1/reviews/{review_id}/report?format=html"


ASSESS_ACTION = "assess_criterion"
ASSESS_VIEW = "assess_submit"
GRADE_WORDS = {Grade.MET: "met", Grade.PARTIAL: "partial", Grade.MISSING: "missing", Grade.RED_FLAG: "red flag"}


def _plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": _clip(text, limit)}


def assess_actions(review: Review, review_id: str) -> dict:
    """A menu under the summary: pick a criterion to confirm or change its grade (opens a form)."""
    return {
        "type": "actions",
        "block_id": "assess",
        "elements": [
            {
                "type": "static_select",
                "action_id": ASSESS_ACTION,
                "placeholder": _plain("Confirm or change a grade…", 75),
                "options": [
                    {"text": _plain(f.title, 75), "value": f"{review_id}:{f.criterion_id}"}
                    for f in review.findings[:100]
                ],
            }
        ],
    }


def assess_modal(review: Review, review_id: str, criterion_id: str, reply_to: dict[str, str]) -> dict:
    """The form an evaluator fills in Slack: the grade (the current final grade preselected) and a reason."""
    finding = next(f for f in review.findings if f.criterion_id == criterion_id)
    grades = [{"text": _plain(word, 75), "value": grade.value} for grade, word in GRADE_WORDS.items()]
    current = next((g for g in grades if finding.grade and g["value"] == finding.grade.value), None)
    grade_menu: dict = {"type": "static_select", "action_id": "grade", "options": grades}
    if current is not None:
        grade_menu["initial_option"] = current
    ai = GRADE_WORDS[finding.ai_grade] if finding.ai_grade else GRADE_WORDS.get(finding.grade, "not graded")
    return {
        "type": "modal",
        "callback_id": ASSESS_VIEW,
        "private_metadata": json.dumps({"review_id": review_id, "criterion_id": criterion_id, **reply_to}),
        "title": _plain("Assess a grade", 24),
        "submit": _plain("Save", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            _section(f"*{_escape(finding.title)}*\nThe grader said *{ai}*: {_reason(finding)}"),
            {"type": "input", "block_id": "grade", "label": _plain("Your grade", 75), "element": grade_menu},
            {
                "type": "input",
                "block_id": "reason",
                "optional": True,
                "label": _plain("Reason (required when you change the grade)", 75),
                "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True, "max_length": 3000},
            },
        ],
    }


def summary_blocks(review: Review, review_id: str | None, base_url: str) -> list[dict]:
    """The summary of one review; without a stored review id (a CLI preview) there is no report link."""
    title = review.vendor_name or review.document.file_name
    score = f"{review.overall_score:.0f}/100" if review.overall_score is not None else "n/a"
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip_escaped(f"Proposal review: {title}", MAX_HEADER)},
        },
        _section(
            f"*Score* {score}{'' if review.score_complete else ' (incomplete)'}  ·  "
            f"*Verdict* {VERDICT_LABELS[review.verdict.value]}  ·  *Red flags* {review.red_flag_count}  ·  "
            f"*Unsupported* {review.unsupported_count}"
        ),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _clip(
                        f"{_escape(review.document.file_name)} · {plural(review.document.pages, 'page')} · rubric "
                        f"{_escape(review.rubric.title)} v{_escape(review.rubric.version)} · "
                        + (OFFLINE_SHORT if review.offline else f"{review.backend} {review.model or ''}"),
                        300,
                    ),
                }
            ],
        },
        {"type": "divider"},
    ]
    lines = [f"{EMOJI[f.grade]} *{_escape(f.title)}*: {_reason(f)}" for f in review.findings]
    blocks += _packed(lines, "Criteria")

    red = [f for f in review.findings if f.grade is Grade.RED_FLAG]
    if red:
        red_lines = []
        for f in red[:MAX_RED_FLAGS]:
            cited = f.verified_citations[0] if f.verified_citations else None
            where = f" (p. {cited.page}: “{_escape(_clip(cited.quote, 140))}”)" if cited else ""
            red_lines.append(f"• *{_escape(f.title)}*{where}")
        if len(red) > MAX_RED_FLAGS:
            red_lines.append(f"…and {len(red) - MAX_RED_FLAGS} more in the full report")
        blocks += _packed(red_lines, ":triangular_flag_on_post: Red flags")

    questions = [q for f in review.findings if (q := open_question(f))]
    if questions:
        q_lines = [f"{i}. {_escape(_clip(q, 280))}" for i, q in enumerate(questions[:MAX_QUESTIONS], 1)]
        if len(questions) > MAX_QUESTIONS:
            q_lines.append(f"…and {len(questions) - MAX_QUESTIONS} more in the full report")
        blocks += _packed(q_lines, "Questions to send the vendor")

    link = (
        f"<{report_url(base_url, review_id)}|Full report> · review id `{review_id}`"
        if review_id
        else "Preview: the full report link appears once the review is stored by the service."
    )
    tail = [{"type": "context", "elements": [{"type": "mrkdwn", "text": link}]}]
    if review_id:
        tail.append(assess_actions(review, review_id))
    if len(blocks) + len(tail) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - len(tail) - 1], _section("_More in the full report._")]
    return blocks + tail


def summary_text(review: Review) -> str:
    """The plain-text fallback Slack shows in notifications."""
    score = f"{review.overall_score:.0f}/100" if review.overall_score is not None else "n/a"
    name = _escape(review.vendor_name or review.document.file_name)
    answered = f" (round {review.round}, with the vendor's answers)" if review.round > 1 else ""
    return f"Review of {name}{answered}: {score}, {plural(review.red_flag_count, 'red flag')}"


class ReviewListItem(BaseModel):
    """One line of `/review list`: what a person needs to pick a review, nothing of the store."""

    id: str
    name: str
    status: str
    error_code: str | None = None


def list_blocks(items: list[ReviewListItem]) -> list[dict]:
    if not items:
        return [_section("No reviews yet. Share a PDF in a channel I'm in, or send me one.")]
    lines = []
    for item in items:
        lines.append(
            f"`{item.id[:8]}` {_escape(item.name)} · {item.status}"
            + (f" · {_escape(item.error_code)}" if item.error_code else "")
        )
    return _packed(lines, "Recent reviews")


def comparison_blocks(comparison: Comparison) -> list[dict]:
    header = " ".join(f"`{i + 1}`" for i in range(len(comparison.criteria)))
    lines = ["Criteria: " + ", ".join(f"`{i + 1}` {_escape(c.title)}" for i, c in enumerate(comparison.criteria))]
    for row in comparison.rows:
        if row.status != "done":
            lines.append(f"— *{_escape(row.vendor)}*: no review ({_row_failure(row.error)})")
            continue
        rank = f"{row.rank}{'=' if row.tied else ''}"
        grades = " ".join(EMOJI[row.grades.get(c.id)] for c in comparison.criteria)
        answered = f", round {row.round}" if row.round and row.round > 1 else ""
        lines.append(
            f"{rank}. *{_escape(row.vendor)}* {row.overall_score:.0f}/100, "
            f"{plural(row.red_flags or 0, 'red flag')}{answered}\n{grades}"
        )
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "Vendor comparison"}},
        *_packed(lines, f"{_escape(comparison.rubric_title)} ({header})"),
    ][:MAX_BLOCKS]


MAX_ROUND_LINES = 12
GRADE_WORDS = {Grade.MET: "met", Grade.PARTIAL: "partial", Grade.MISSING: "missing", Grade.RED_FLAG: "red flag"}


def _grade_word(grade: Grade | None) -> str:
    return GRADE_WORDS[grade] if grade else "error"


def round_text(view: RoundSummary, name: str, error_code: str | None = None) -> str:
    """The thread's line when a clarification round finishes: the score before and after, and each criterion
    that changed with what closed the gap (the answer's file and page). Every name and quote is escaped."""
    head = f"Round {view.number} of *{_escape(name)}* ({_escape(view.file_name)})"
    if view.status != "done":
        return f"{head} could not be graded: {failure_reason(error_code)}."
    score = "n/a" if view.overall_score is None else f"{view.overall_score:.0f}/100"
    if view.score_change is not None and view.compared_with is not None:
        score += f" ({view.score_change:+.0f} since round {view.compared_with})"
    changed = [c for c in view.changes if c.changed]
    lines = [f"{head} is graded: {score}; {plural(len(changed), 'criterion', 'criteria')} changed."]
    for c in changed[:MAX_ROUND_LINES]:
        points = "" if c.score_change is None else f" ({c.score_change:+g})"
        before, after = _grade_word(c.previous_grade), _grade_word(c.current_grade)
        line = f"• *{_clip_escaped(c.title, 80)}*: {before} → {after}{points}"
        if c.closed_by:
            q = c.closed_by[0]
            where = f"{q.document} p. {q.document_page or q.page}" if q.document else f"p. {q.page}"
            line += f", closed by {_clip_escaped(where, 120)}: “{_clip_escaped(q.quote, 140)}”"
        lines.append(line)
    if len(changed) > MAX_ROUND_LINES:
        lines.append(f"… and {len(changed) - MAX_ROUND_LINES} more")
    text = lines[0]
    for line in lines[1:]:  # whole lines only, so no escaped entity is cut in two
        if len(text) + 1 + len(line) > MAX_SECTION:
            break
        text += "\n" + line
    return text


HELP = (
    "*/review help*: this help\n*/review list*: recent reviews\n*/review <id>*: the summary of one review "
    "(the first 6+ characters of its id are enough)\n*/review compare <id> <id> ...*: a compact comparison\n"
    "Share a PDF proposal in a channel I'm in (or send it to me) and I'll reply in its thread with the review."
)


def help_blocks() -> list[dict]:
    return [_section(HELP)]
