"""The panel on rounds after the first: assessments and consensus record their round, final grades are
per round on that round's grades, the review shows the latest round, comparisons and reports use it, and
round 1 stays as it was decided."""

import csv
import io
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from reviewer.assessment import Panel, final_review
from reviewer.pipeline import assemble_review
from reviewer.review import Assessment, Consensus, Grade
from reviewer.rounds import CriterionChange, RoundSummary
from tests.conftest import make_document
from tests.fakes import raw_grading_for
from tests.test_rounds import ANSWER, PROPOSAL, RETENTION, _app, _finished_review, _wait_for_round, auth

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def client(tmp_path):
    with TestClient(_app(tmp_path)) as c:
        yield c


def _with_round_2(client, answer_name: str = "answer.pdf") -> tuple[str, list[str]]:
    job = _finished_review(client)
    rid = job["id"]
    files = {"file": (answer_name, ANSWER, "application/pdf")}
    assert client.post(f"/v1/reviews/{rid}/rounds", headers=auth("ana"), files=files).status_code == 202
    assert _wait_for_round(client, rid, 2)["status"] == "done"
    return rid, [f["criterion_id"] for f in job["review"]["findings"]]


def _finding(review: dict, criterion_id: str) -> dict:
    return next(f for f in review["findings"] if f["criterion_id"] == criterion_id)


def test_once_round_2_is_graded_evaluators_assess_it_on_its_own_grades_and_round_1_stays(client):
    rid, (first, second, *_) = _with_round_2(client)
    url = f"/v1/reviews/{rid}/assessments"
    # round 1 graded the first criterion partial, round 2 met: a partial without a reason is refused on round 2
    refused = client.post(url, headers=auth("ana"), json={"criterion_id": first, "grade": "partial"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "reason_required"
    assert "met" in refused.json()["error"]["message"]
    # ... and accepted on round 1, whose grader said partial
    on_1 = client.post(url, headers=auth("ana"), json={"criterion_id": first, "grade": "partial", "round": 1})
    assert on_1.status_code == 201 and on_1.json()["round"] == 1
    on_2 = client.post(
        url, headers=auth("ana"), json={"criterion_id": second, "grade": "missing", "reason": "the answer is vague"}
    )
    assert on_2.status_code == 201 and on_2.json()["round"] == 2

    shown = client.get(f"/v1/reviews/{rid}", headers=auth("ana")).json()
    assert shown["round"] == 2 and shown["links"]["rounds"] == f"/v1/reviews/{rid}/rounds"
    latest = shown["review"]
    assert (_finding(latest, second)["final_grade"], _finding(latest, second)["final_source"]) == (
        "missing",
        "evaluator",
    )
    # round 1's assessment is not carried into round 2: there the first criterion is the grader's, unconfirmed
    assert (_finding(latest, first)["final_source"], _finding(latest, first)["assessments"]) == ("ai", [])

    round_1 = client.get(f"/v1/reviews/{rid}/rounds/1", headers=auth("ana")).json()["review"]
    assert round_1["round"] == 1
    assert _finding(round_1, first)["final_source"] == "evaluator"
    assert [a["round"] for a in _finding(round_1, first)["assessments"]] == [1]
    assert (_finding(round_1, second)["final_source"], _finding(round_1, second)["grade"]) == ("ai", "met")

    # the round's changes are measured between the two rounds' final grades
    listed = client.get(f"/v1/reviews/{rid}/rounds", headers=auth("ana")).json()["items"]
    changes = {c["criterion_id"]: c for c in listed[1]["changes"]}
    assert (changes[second]["previous_grade"], changes[second]["current_grade"]) == ("met", "missing")
    assert listed[1]["overall_score"] == latest["overall_score"]


def test_consensus_is_set_per_round_and_the_latest_rounds_consensus_is_what_the_review_shows(client):
    rid, (first, *_) = _with_round_2(client)
    put = f"/v1/reviews/{rid}/consensus/{first}"
    on_1 = client.put(put, headers=auth("lead"), json={"grade": "missing", "reason": "no terms", "round": 1})
    assert on_1.status_code == 200 and on_1.json()["round"] == 1
    on_2 = client.put(put, headers=auth("lead"), json={"grade": "partial", "reason": "answer is partial"})
    assert on_2.status_code == 200 and on_2.json()["round"] == 2

    latest = client.get(f"/v1/reviews/{rid}", headers=auth("ana")).json()["review"]
    assert (_finding(latest, first)["final_grade"], _finding(latest, first)["final_source"]) == ("partial", "consensus")
    assert _finding(latest, first)["ai_grade"] == "met"
    round_1 = client.get(f"/v1/reviews/{rid}/rounds/1", headers=auth("ana")).json()["review"]
    assert (_finding(round_1, first)["final_grade"], _finding(round_1, first)["consensus"]["round"]) == ("missing", 1)
    events = client.get(f"/v1/reviews/{rid}/audit", headers=auth("ana")).json()["items"]
    assert [e["after"]["round"] for e in events if e["action"] == "consensus_set"] == [1, 2]
    forbidden = client.put(put, headers=auth("ana"), json={"grade": "met", "reason": "x", "round": 2})
    assert forbidden.status_code == 403


def test_assessing_a_round_that_does_not_exist_or_is_not_done_is_a_422_with_a_reason(client):
    rid, (first, *_) = _with_round_2(client)
    url = f"/v1/reviews/{rid}/assessments"
    missing = client.post(url, headers=auth("ana"), json={"criterion_id": first, "grade": "met", "round": 5})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "unknown_round"
    assert "no round 5" in missing.json()["error"]["message"] and "1, 2" in missing.json()["error"]["message"]
    zero = client.post(url, headers=auth("ana"), json={"criterion_id": first, "grade": "met", "round": 0})
    assert zero.status_code == 422
    store = client.app.state.services.store
    job = store.get(rid)
    assert store.open_round(rid, job.sha256, "late.pdf", "ana").number == 3  # queued, never graded here
    queued = client.post(url, headers=auth("ana"), json={"criterion_id": first, "grade": "met", "round": 3})
    assert queued.status_code == 422 and queued.json()["error"]["code"] == "round_not_done"
    consensus = client.put(
        f"/v1/reviews/{rid}/consensus/{first}", headers=auth("lead"), json={"grade": "met", "reason": "r", "round": 3}
    )
    assert consensus.status_code == 422 and consensus.json()["error"]["code"] == "round_not_done"
    # the latest *done* round is still the default, and what the review shows
    default = client.post(url, headers=auth("ana"), json={"criterion_id": first, "grade": "met"})
    assert default.status_code == 201 and default.json()["round"] == 2
    assert client.get(f"/v1/reviews/{rid}", headers=auth("ana")).json()["round"] == 2


def test_an_evaluators_quote_on_round_2_is_found_in_the_answer_and_named_by_its_file_and_page(client):
    rid, (first, *_) = _with_round_2(client)
    body = {
        "criterion_id": first,
        "grade": "met",
        "citations": [{"page": 4, "quote": RETENTION}, {"page": 1, "quote": "not in any file"}],
    }
    created = client.post(f"/v1/reviews/{rid}/assessments", headers=auth("ana"), json=body).json()
    found, invented = created["citations"]
    assert (found["verified"], found["document"], found["document_page"]) == (True, "answer.pdf", 2)
    assert invented["verified"] is False


def test_a_batch_compares_each_vendors_latest_round_with_its_final_grades_and_says_which(client):
    created = client.post(
        "/v1/batches", headers=auth("lead"), files=[("files", ("acme.pdf", PROPOSAL, "application/pdf"))]
    ).json()
    rid = created["items"][0]["job_id"]
    _wait_for_round(client, rid, 1)
    before = client.get(f"/v1/batches/{created['id']}", headers=auth("lead")).json()["comparison"]["rows"][0]
    assert before["round"] == 1
    files = {"file": ("answer.pdf", ANSWER, "application/pdf")}
    assert client.post(f"/v1/reviews/{rid}/rounds", headers=auth("lead"), files=files).status_code == 202
    _wait_for_round(client, rid, 2)
    first = client.get(f"/v1/reviews/{rid}", headers=auth("lead")).json()["review"]["findings"][0]["criterion_id"]
    client.put(f"/v1/reviews/{rid}/consensus/{first}", headers=auth("lead"), json={"grade": "missing", "reason": "r"})

    status = client.get(f"/v1/batches/{created['id']}", headers=auth("lead")).json()
    row = status["comparison"]["rows"][0]
    latest = client.get(f"/v1/reviews/{rid}", headers=auth("lead")).json()["review"]
    assert row["round"] == 2 and row["grades"][first] == "missing" and row["panel"][first]["source"] == "consensus"
    assert row["overall_score"] == latest["overall_score"] != before["overall_score"]
    csv_text = client.get(f"/v1/batches/{created['id']}/comparison.csv", headers=auth("lead")).text
    [line] = list(csv.DictReader(io.StringIO(csv_text)))
    assert "round 2" in line["status"]
    evidence = next(f for f in status["comparison"]["findings"] if f["criterion_id"] != first)["evidence"][0]
    assert evidence["document"] == "acme.pdf"


def test_the_report_shows_the_latest_round_with_the_changes_and_what_closed_the_gap(client):
    rid, (first, *_) = _with_round_2(client, answer_name="answers_v2_.pdf")
    markdown = client.get(f"/v1/reviews/{rid}/report", headers=auth("ana")).text
    assert "- **Round:** 2" in markdown and "## Clarification rounds" in markdown
    row = next(line for line in markdown.splitlines() if f"(`{first}`) | partial | met" in line)
    assert "| +0.5 |" in row and f"answers\\_v2\\_.pdf p. 2: “{RETENTION}”" in row
    assert "answers_v2_.pdf" not in markdown  # the vendor's file name is escaped everywhere
    html = client.get(f"/v1/reviews/{rid}/report?format=html", headers=auth("ana")).text
    assert "<h2>Clarification rounds</h2>" in html and f"answers_v2_.pdf p. 2: “{RETENTION}”" in html
    events = client.get(f"/v1/reviews/{rid}/audit", headers=auth("ana")).json()["items"]
    assert events[-1]["action"] == "report_exported" and events[-1]["after"]["round"] == 2


def test_on_a_blind_panel_the_latest_rounds_review_and_report_name_no_file(client):
    created = client.post(
        "/v1/batches",
        headers=auth("lead"),
        files=[("files", ("acme.pdf", PROPOSAL, "application/pdf"))],
        data={"blind": "true"},
    ).json()
    rid = created["items"][0]["job_id"]
    _wait_for_round(client, rid, 1)
    files = {"file": ("acme-answers.pdf", ANSWER, "application/pdf")}
    assert client.post(f"/v1/reviews/{rid}/rounds", headers=auth("lead"), files=files).status_code == 202
    _wait_for_round(client, rid, 2)
    for url in (f"/v1/reviews/{rid}", f"/v1/reviews/{rid}/report", f"/v1/reviews/{rid}/report?format=html"):
        seen = client.get(url, headers=auth("ana")).text
        assert "acme" not in seen.lower(), url
        assert f"Vendor {rid[:6]} answer 2.pdf" in seen, url
    assert "acme-answers.pdf" in client.get(f"/v1/reviews/{rid}", headers=auth("lead")).text
    sha256 = client.get(f"/v1/reviews/{rid}", headers=auth("lead")).json()["sha256"]
    for number in (1, 2):  # each round's own review carries no hash of the vendor's file either
        seen = client.get(f"/v1/reviews/{rid}/rounds/{number}", headers=auth("ana")).text
        assert sha256 not in seen and "acme" not in seen.lower()


def _assessment(criterion_id: str, grade: Grade, number: int) -> Assessment:
    return Assessment(
        id=f"a{number}", review_id="r", criterion_id=criterion_id, evaluator="ana", grade=grade, reason="r",
        round=number, created_at=NOW,
    )  # fmt: skip


def test_final_grades_count_only_what_people_recorded_on_the_reviews_own_round(rubric):
    quote = "Client data is never used to train models for other customers."
    grades = {c.id: Grade.MET for c in rubric.criteria}
    raw = raw_grading_for(rubric, grades, quote=quote)
    sample_review = assemble_review(make_document(quote), rubric, raw, backend="test", offline=False)
    cid = sample_review.findings[0].criterion_id
    panel = Panel(
        assessments=[_assessment(cid, Grade.RED_FLAG, 2)],
        consensus=[
            Consensus(review_id="r", criterion_id=cid, grade=Grade.MISSING, reason="r", lead="l", created_at=NOW)
        ],
    )
    on_1 = final_review(sample_review, panel).findings[0]
    assert (on_1.grade, on_1.final_source.value, on_1.assessments) == (Grade.MISSING, "consensus", [])
    on_2 = final_review(sample_review.model_copy(update={"round": 2}), panel).findings[0]
    assert (on_2.grade, on_2.final_source.value, on_2.consensus) == (Grade.RED_FLAG, "evaluator", None)


def test_a_blind_evaluator_sees_others_grades_of_a_round_only_once_they_assessed_that_round():
    mine = _assessment("data", Grade.MET, 1).model_copy(update={"id": "m"})
    theirs_1 = _assessment("data", Grade.MISSING, 1).model_copy(update={"id": "t1", "evaluator": "ben"})
    theirs_2 = _assessment("data", Grade.MISSING, 2).model_copy(update={"id": "t2", "evaluator": "ben"})
    seen = Panel(assessments=[mine, theirs_1, theirs_2]).visible_to("ana", blind=True, lead=False)
    assert [a.id for a in seen.assessments] == ["m", "t1"]


def test_the_report_escapes_what_a_round_quotes_from_the_vendor():
    from reviewer.render.rounds import rounds_html, rounds_markdown
    from reviewer.review import Citation

    quote = Citation(page=3, quote="<img src=x> [link](http://x) *bold*", verified=True, document="a|b.pdf",
                     document_page=1)  # fmt: skip
    change = CriterionChange(
        criterion_id="data", title="Data <b>", previous_grade=Grade.MISSING, current_grade=Grade.MET,
        previous_score=0.0, current_score=1.0, score_change=1.0, changed=True, closed_by=[quote],
    )  # fmt: skip
    view = RoundSummary(number=2, file_name="a|b.pdf", status="done", overall_score=80.0, compared_with=1,
                        score_change=30.0, changes=[change])  # fmt: skip
    markdown = "\n".join(rounds_markdown([view], 2))
    assert "<img" not in markdown and "[link]" not in markdown and "\\[link\\]" in markdown
    assert "a\\|b.pdf p. 1" in markdown  # a pipe in a file name cannot split the table's cells
    assert "round 1: 50" in markdown and "+30.0" in markdown
    html = "\n".join(rounds_html([view], 2))
    assert "<img" not in html and "&lt;img src=x&gt;" in html and "Data &lt;b&gt;" in html
    assert rounds_markdown([view], 1) == [] and rounds_html([view], 1) == []


def test_the_web_review_page_of_a_blind_panel_names_no_file_of_the_latest_round(tmp_path):
    from reviewer.server import create_server
    from tests.test_rounds import AnswerAwareBackend
    from tests.web.test_routes import make_settings, sign_in

    app = create_server(make_settings(tmp_path), backend_factory=lambda name, s: AnswerAwareBackend())
    with TestClient(app) as client:
        created = client.post(
            "/v1/batches",
            headers=auth("lead"),
            files=[("files", ("acme.pdf", PROPOSAL, "application/pdf"))],
            data={"blind": "true"},
        ).json()
        rid = created["items"][0]["job_id"]
        _wait_for_round(client, rid, 1)
        files = {"file": ("acme-answers.pdf", ANSWER, "application/pdf")}
        assert client.post(f"/v1/reviews/{rid}/rounds", headers=auth("lead"), files=files).status_code == 202
        _wait_for_round(client, rid, 2)
        sign_in(client, "ana")
        page = client.get(f"/web/reviews/{rid}")
    assert page.status_code == 200 and "thirty days" in page.text  # round 2's quote is on the page
    assert "acme" not in page.text.lower()


def test_questions_of_a_later_round_cite_the_proposals_own_pages_not_the_combined_ones():
    from reviewer.render.questions import question_set_for
    from reviewer.review import Citation, DocumentInfo, Finding, RubricInfo, Verdict
    from reviewer.review import Review as ReviewModel

    cited = [
        Citation(page=3, quote="a", verified=True, document="acme.pdf", document_page=3),
        Citation(page=5, quote="b", verified=True, document="answers.pdf", document_page=2),
    ]
    finding = Finding(criterion_id="data", title="Data", kind="k", weight=1, grade=Grade.PARTIAL, score=0.5,
                      citations=cited, clarification_question="Where is the data kept?")  # fmt: skip
    review = ReviewModel(
        created_at=NOW, document=DocumentInfo(file_name="acme.pdf + answers.pdf", sha256="x", pages=6),
        rubric=RubricInfo(id="r", version="1", title="R"), backend="b", offline=False, round=2,
        findings=[finding], overall_score=50.0, score_complete=True, verdict=Verdict.NEEDS_CLARIFICATION,
        red_flag_count=0, unsupported_count=0, error_count=0,
    )  # fmt: skip
    [item] = question_set_for(review, round=2).items
    assert item.page_refs == [3]
