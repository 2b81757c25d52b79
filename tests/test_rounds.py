"""Clarification rounds: the vendor's answer graded with the proposal, citations named by file and page,
round-over-round changes, and round 1 kept as it was (reviewer.rounds, reviewer.queue.rounds, the API)."""

import time

import pytest
from fastapi.testclient import TestClient

from reviewer.api.app import create_app
from reviewer.config import ApiSettings, JobSettings, Settings, StorageSettings
from reviewer.documents import Document
from reviewer.grading.base import RawCitation, RawFinding, RawGrading
from reviewer.pipeline import assemble_review
from reviewer.review import Grade
from reviewer.rounds import attribute_citations, combine_documents, round_changes
from reviewer.rubric import Rubric, load_rubric
from tests.conftest import make_document
from tests.pdfs import text_pdf

DATA = "Client data is never used to train models for other customers."
CODE = "Source code is delivered to the client at handover."
RETENTION = "We retain client data for thirty days and then delete it."
PROPOSAL = text_pdf([DATA, CODE])
ANSWER = text_pdf(["Answers to your clarification questions", RETENTION])
KEYS = {"ana": "ana-key-0123456789abcdef", "lead": "lead-key-0123456789abcd"}


def auth(who: str) -> dict:
    return {"Authorization": f"Bearer {KEYS[who]}"}


class AnswerAwareBackend:
    """Grades the first criterion partial on the proposal alone and met once the answer's retention quote is
    there (citing it on its combined page); every other criterion met on the proposal's first page."""

    name = "scripted"
    offline = False

    async def grade(self, document: Document, rubric: Rubric) -> RawGrading:
        answered = next((p.number for p in document.pages if "thirty days" in p.text), None)
        findings = []
        for i, criterion in enumerate(rubric.criteria):
            if i == 0 and answered:
                grade, citation = Grade.MET, RawCitation(page=answered, quote=RETENTION)
            else:
                grade, citation = (Grade.PARTIAL if i == 0 else Grade.MET), RawCitation(page=1, quote=DATA)
            findings.append(RawFinding(criterion_id=criterion.id, grade=grade, rationale="r", citations=[citation]))
        return RawGrading(findings=findings)


def graded(document: Document, rubric: Rubric, grades: dict[str, Grade], page: int, quote: str):
    raw = RawGrading(
        findings=[
            RawFinding(criterion_id=c.id, grade=grades.get(c.id, Grade.MET), rationale="r",
                       citations=[RawCitation(page=page, quote=quote)])
            for c in rubric.criteria
        ]
    )  # fmt: skip
    return assemble_review(document, rubric, raw, backend="test", offline=False)


def test_a_combined_document_numbers_the_answer_after_the_proposal_and_citations_name_their_file_and_page():
    rubric = load_rubric()
    proposal = make_document(DATA, CODE, file_name="proposal.pdf")
    answer = make_document("Answers", RETENTION, file_name="answer.pdf")
    combined = combine_documents(proposal, [answer])
    assert [p.number for p in combined.document.pages] == [1, 2, 3, 4]
    assert combined.document.pages[3].text == RETENTION
    review = attribute_citations(graded(combined.document, rubric, {}, 4, RETENTION), combined)
    [citation] = review.findings[0].citations
    assert citation.verified and (citation.page, citation.document, citation.document_page) == (4, "answer.pdf", 2)
    on_proposal = attribute_citations(graded(combined.document, rubric, {}, 2, CODE), combined)
    assert on_proposal.findings[0].citations[0].document == "proposal.pdf"
    assert on_proposal.findings[0].citations[0].document_page == 2


def test_an_answer_quote_cited_on_a_proposal_page_is_found_on_the_answers_page():
    rubric = load_rubric()
    combined = combine_documents(make_document(DATA), [make_document("x", RETENTION, file_name="answer.pdf")])
    review = attribute_citations(graded(combined.document, rubric, {}, 1, RETENTION), combined)
    citation = review.findings[0].citations[0]
    assert citation.verified and (citation.document, citation.document_page, citation.cited_page) == (
        "answer.pdf",
        2,
        1,
    )


def test_round_changes_give_grade_score_change_and_the_answer_quotes_that_closed_the_gap():
    rubric = load_rubric()
    first_id, second_id = rubric.criteria[0].id, rubric.criteria[1].id
    proposal = make_document(DATA, file_name="proposal.pdf")
    before = graded(proposal, rubric, {first_id: Grade.PARTIAL, second_id: Grade.MET}, 1, DATA)
    combined = combine_documents(proposal, [make_document(RETENTION, file_name="answer.pdf")])
    after = attribute_citations(
        graded(combined.document, rubric, {first_id: Grade.MET, second_id: Grade.PARTIAL}, 2, RETENTION), combined
    )
    changes = {c.criterion_id: c for c in round_changes(before, after, answer_document="answer.pdf")}
    up, down = changes[first_id], changes[second_id]
    assert (up.previous_grade, up.current_grade, up.score_change, up.changed) == (Grade.PARTIAL, Grade.MET, 0.5, True)
    assert [(c.document, c.document_page, c.quote) for c in up.closed_by] == [("answer.pdf", 1, RETENTION)]
    assert (down.score_change, down.closed_by) == (-0.5, [])
    unchanged = changes[rubric.criteria[2].id]
    assert (unchanged.changed, unchanged.score_change, unchanged.closed_by) == (False, 0.0, [])


def test_existing_reviews_without_document_fields_still_load():
    from reviewer.review import Citation

    old = Citation.model_validate({"page": 1, "quote": "q", "verified": True})
    assert old.document is None and old.document_page is None


def _app(tmp_path, **kwargs):
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        api=ApiSettings(keys=[f"{n}:{k}" for n, k in KEYS.items()], lead_evaluators=["lead"]),
        jobs=JobSettings(poll_seconds=0.05),
    )
    return create_app(settings, backend_factory=lambda name, s: AnswerAwareBackend(), **kwargs)


@pytest.fixture
def client(tmp_path):
    with TestClient(_app(tmp_path)) as c:
        yield c


def _finished_review(client) -> dict:
    response = client.post(
        "/v1/reviews?wait=true", headers=auth("ana"), files={"file": ("proposal.pdf", PROPOSAL, "application/pdf")}
    )
    assert response.status_code == 200, response.text
    return response.json()


def _wait_for_round(client, review_id: str, number: int) -> dict:
    deadline = time.monotonic() + 60
    while True:
        items = client.get(f"/v1/reviews/{review_id}/rounds", headers=auth("ana")).json()["items"]
        found = next(r for r in items if r["number"] == number)
        if found["status"] in ("done", "failed"):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


def test_an_answer_opens_round_2_which_is_graded_with_both_documents_and_keeps_round_1(client):
    job = _finished_review(client)
    rid = job["id"]
    first_id = job["review"]["findings"][0]["criterion_id"]
    second_id = job["review"]["findings"][1]["criterion_id"]
    # the lead's consensus is round 1's final grade of the second criterion: round 2 is compared with it
    client.put(
        f"/v1/reviews/{rid}/consensus/{second_id}", headers=auth("lead"), json={"grade": "missing", "reason": "vague"}
    )
    round_1 = client.get(f"/v1/reviews/{rid}", headers=auth("ana")).json()["review"]

    opened = client.post(
        f"/v1/reviews/{rid}/rounds", headers=auth("ana"), files={"file": ("answer.pdf", ANSWER, "application/pdf")}
    )
    assert opened.status_code == 202, opened.text
    assert opened.json()["number"] == 2 and opened.json()["status"] == "queued"
    done = _wait_for_round(client, rid, 2)
    assert done["status"] == "done", done
    assert (done["compared_with"], done["opened_by"], done["file_name"]) == (1, "ana", "answer.pdf")

    changes = {c["criterion_id"]: c for c in done["changes"]}
    up = changes[first_id]
    assert (up["previous_grade"], up["current_grade"], up["score_change"]) == ("partial", "met", 0.5)
    assert [(c["document"], c["document_page"], c["page"]) for c in up["closed_by"]] == [("answer.pdf", 2, 4)]
    consensus = changes[second_id]
    assert (consensus["previous_grade"], consensus["current_grade"], consensus["closed_by"]) == ("missing", "met", [])
    assert done["score_change"] == pytest.approx(done["overall_score"] - round_1["overall_score"], abs=0.1)

    one = client.get(f"/v1/reviews/{rid}/rounds/2", headers=auth("ana")).json()
    cited = one["review"]["findings"][0]["citations"][0]
    assert (cited["document"], cited["document_page"], cited["verified"]) == ("answer.pdf", 2, True)
    assert one["review"]["document"]["pages"] == 4

    # the review now shows round 2; round 1 is untouched: same review, same grades, no document named
    latest = client.get(f"/v1/reviews/{rid}", headers=auth("ana")).json()
    assert (latest["round"], latest["review"]["round"]) == (2, 2)
    assert latest["review"]["overall_score"] == done["overall_score"]
    assert client.get(f"/v1/reviews/{rid}/rounds/1", headers=auth("ana")).json()["review"] == round_1
    assert all(c["document"] is None for f in round_1["findings"] for c in f["citations"])
    events = client.get(f"/v1/reviews/{rid}/audit", headers=auth("ana")).json()["items"]
    assert [e["action"] for e in events][-2:] == ["round_opened", "round_finished"]
    assert events[-1]["after"]["round"] == 2 and events[-1]["after"]["status"] == "done"


def test_rounds_of_an_unknown_review_are_404_and_of_an_unfinished_one_409(tmp_path):
    with TestClient(_app(tmp_path, run_workers=False)) as client:
        files = {"file": ("answer.pdf", ANSWER, "application/pdf")}
        missing = client.post("/v1/reviews/0123abcd/rounds", headers=auth("ana"), files=files)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        assert client.get("/v1/reviews/0123abcd/rounds", headers=auth("ana")).status_code == 404
        queued = client.post(
            "/v1/reviews", headers=auth("ana"), files={"file": ("proposal.pdf", PROPOSAL, "application/pdf")}
        ).json()
        refused = client.post(f"/v1/reviews/{queued['id']}/rounds", headers=auth("ana"), files=files)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_ready"
        listed = client.get(f"/v1/reviews/{queued['id']}/rounds", headers=auth("ana")).json()["items"]
        assert [(r["number"], r["status"]) for r in listed] == [(1, "queued")]


def test_an_answer_that_is_not_a_document_is_refused_and_rounds_need_a_key(client):
    job = _finished_review(client)
    bad = client.post(
        f"/v1/reviews/{job['id']}/rounds", headers=auth("ana"), files={"file": ("answer.pdf", b"hello", "text/plain")}
    )
    assert bad.status_code == 415 and bad.json()["error"]["code"] == "not_pdf"
    assert client.get(f"/v1/reviews/{job['id']}/rounds").status_code == 401
    assert [
        r["number"] for r in client.get(f"/v1/reviews/{job['id']}/rounds", headers=auth("ana")).json()["items"]
    ] == [1]


def test_on_a_blind_panel_an_evaluator_sees_rounds_under_labels_and_the_lead_sees_the_names(client):
    created = client.post(
        "/v1/batches",
        headers=auth("lead"),
        files=[("files", ("acme.pdf", PROPOSAL, "application/pdf"))],
        data={"blind": "true"},
    )
    assert created.status_code == 202, created.text
    rid = created.json()["items"][0]["job_id"]
    deadline = time.monotonic() + 30
    while client.get(f"/v1/reviews/{rid}", headers=auth("lead")).json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    files = {"file": ("acme-answers.pdf", ANSWER, "application/pdf")}
    assert client.post(f"/v1/reviews/{rid}/rounds", headers=auth("lead"), files=files).status_code == 202
    _wait_for_round(client, rid, 2)
    seen = client.get(f"/v1/reviews/{rid}/rounds/2", headers=auth("ana")).text
    assert "acme" not in seen.lower() and f"Vendor {rid[:6]} answer 2.pdf" in seen
    listed = client.get(f"/v1/reviews/{rid}/rounds", headers=auth("lead")).json()["items"]
    assert [r["file_name"] for r in listed] == ["acme.pdf", "acme-answers.pdf"]
