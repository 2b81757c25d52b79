"""Slack: when a clarification round of a review finishes, the review's thread gets a line with the round's
changes (through the notifications outbox, so whichever process runs the bot posts it), escaped."""

import json
import time

from sqlalchemy import select

from reviewer.documents import Document
from reviewer.grading.base import RawCitation, RawFinding, RawGrading
from reviewer.render.slack import round_text
from reviewer.review import Citation, Grade
from reviewer.rounds import CriterionChange, RoundSummary
from reviewer.rubric import Rubric
from reviewer.store import JobStore, make_engine
from reviewer.store.notifications import notifications
from tests.pdfs import text_pdf
from tests.store.support import new_job
from tests.test_slack import app_client, command, event_body, post_event, slack, wait_for_posts  # noqa: F401

PROPOSAL = text_pdf(["Client data is never used to train models for other customers."])
HOSTILE = "We retain data for thirty days <!channel> <https://evil.example|click>."
ANSWER = text_pdf(["Answers", HOSTILE])
KEY = {"Authorization": "Bearer api-key-0123456789abcdef"}


class AnswerCitingBackend:
    """The first criterion partial on the proposal, met once the answer's page is there (citing it)."""

    name = "scripted"
    offline = False

    async def grade(self, document: Document, rubric: Rubric) -> RawGrading:
        answered = next((p.number for p in document.pages if "thirty days" in p.text), None)
        findings = []
        for i, criterion in enumerate(rubric.criteria):
            if i == 0 and answered:
                grade, citation = Grade.MET, RawCitation(page=answered, quote=HOSTILE)
            else:
                grade = Grade.PARTIAL if i == 0 else Grade.MET
                citation = RawCitation(page=1, quote="Client data is never used to train models for other customers.")
            findings.append(RawFinding(criterion_id=criterion.id, grade=grade, rationale="r", citations=[citation]))
        return RawGrading(findings=findings)


def test_a_finished_round_posts_its_changes_in_the_reviews_thread_escaped(tmp_path, slack):  # noqa: F811
    slack.add_file("F1", "acme.pdf", PROPOSAL)
    with app_client(tmp_path, slack, factory=lambda name, s: AnswerCitingBackend()) as client:
        post_event(client, event_body(["F1"]))
        wait_for_posts(slack, 2)
        [job] = client.get("/v1/reviews", headers=KEY).json()["items"]
        files = {"file": ("answers.pdf", ANSWER, "application/pdf")}
        assert client.post(f"/v1/reviews/{job['id']}/rounds", headers=KEY, files=files).status_code == 202
        line = wait_for_posts(slack, 3)[2]
        time.sleep(0.3)
        assert len(slack.posted) == 3  # one line per round, once
        shown = command(client, job["id"][:8]).json()
        compared = json.dumps(command(client, f"compare {job['id'][:8]} {job['id'][:8]}").json())
        latest = client.get(f"/v1/reviews/{job['id']}", headers=KEY).json()["review"]
    assert shown["text"].startswith("Review of acme.pdf + answers.pdf (round 2, with the vendor's answers): ")
    assert f"{latest['overall_score']:.0f}/100" in shown["text"] and ", round 2" in compared
    assert line["channel"] == "C1" and line["thread_ts"] == "1700000000.000100"
    text = line["text"]
    assert text.startswith("Round 2 of *acme.pdf* (answers.pdf) is graded:") and "since round 1" in text
    assert "partial → met (+0.5), closed by answers.pdf p. 2" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "<https://" not in text


def test_a_round_follow_up_goes_once_to_each_place_the_review_was_posted(tmp_path):
    store = JobStore(make_engine(f"sqlite:///{tmp_path / 'jobs.db'}"))
    job = store.create(new_job(1))
    assert store.follow_up(job.id, {"round": 2}) == 0  # never posted anywhere: nothing to follow
    store.add_notification(job.id, "slack", {"channel": "C1", "thread": "1.1"})
    store.add_notification(job.id, "slack", {"channel": "C1", "thread": "1.1"})  # shared twice, one thread
    store.add_notification(job.id, "slack", {"channel": "C2", "thread": "2.2"})
    assert store.follow_up(job.id, {"round": 2}) == 2
    assert store.follow_up(job.id, {"round": 3}) == 2  # round 3 follows the first posts, not round 2's
    with store.db.connect() as conn:
        queued = [json.loads(t) for (t,) in conn.execute(select(notifications.c.target))]
    assert sorted(map(str, [t for t in queued if "round" in t])) == sorted(
        map(
            str,
            [
                {"channel": "C1", "thread": "1.1", "round": 2},
                {"channel": "C2", "thread": "2.2", "round": 2},
                {"channel": "C1", "thread": "1.1", "round": 3},
                {"channel": "C2", "thread": "2.2", "round": 3},
            ],
        )
    )


def test_the_round_line_escapes_names_and_quotes_and_says_when_a_round_failed():
    quote = Citation(page=3, quote="<@U1> *now*", verified=True, document="a&b.pdf", document_page=1)
    change = CriterionChange(
        criterion_id="data", title="<!here> Data", previous_grade=Grade.MISSING, current_grade=Grade.MET,
        previous_score=0.0, current_score=1.0, score_change=1.0, changed=True, closed_by=[quote],
    )  # fmt: skip
    same = change.model_copy(update={"criterion_id": "code", "changed": False, "closed_by": []})
    view = RoundSummary(number=2, file_name="<x>.pdf", status="done", overall_score=80.0, compared_with=1,
                        score_change=30.0, changes=[change, same])  # fmt: skip
    text = round_text(view, "<!everyone> Acme")
    assert "<!" not in text and "<@" not in text and "&lt;!everyone&gt; Acme" in text
    assert "1 criterion changed" in text and "&lt;!here&gt; Data" in text and "a&amp;b.pdf p. 1" in text
    assert "(+30 since round 1)" in text and "code" not in text
    failed = round_text(view.model_copy(update={"status": "failed"}), "Acme", "internal_error")
    assert (
        failed
        == "Round 2 of *Acme* (&lt;x&gt;.pdf) could not be graded: an internal error stopped it; the team has the logs."
    )
