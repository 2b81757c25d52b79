"""The words and times every page shows the same way (the review's pages are put together in
reviewer/web/review_views.py, the evaluations' elsewhere)."""

from datetime import UTC, datetime

from reviewer.review import Grade

GRADE_WORDS = {Grade.MET: "Met", Grade.PARTIAL: "Partial", Grade.MISSING: "Missing", Grade.RED_FLAG: "Red flag"}
SOURCE_WORDS = {"ai": "grader (unconfirmed)", "evaluator": "evaluator", "consensus": "lead's consensus"}


def when(ts: float | datetime) -> str:
    moment = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
