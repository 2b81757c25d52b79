"""GET /v1/reviews/{id}/questions: the vendor's clarification questions as a document (Markdown, DOCX, PDF)
from the latest round's final grades, masked for a blind panel's evaluator, and each export in the audit
trail under the key's evaluator; and review ids as people type them (a unique prefix) on every review route."""

import io
import uuid

import docx
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from reviewer.errors import BadInputError
from reviewer.queue.review_ids import AmbiguousReviewId, resolve_review_id
from reviewer.store import JobStore, make_engine
from tests.store.support import new_job
from tests.test_rounds import ANSWER, PROPOSAL, _app, _finished_review, _wait_for_round, auth

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def client(tmp_path):
    with TestClient(_app(tmp_path)) as c:
        yield c


def _events(client, review_id: str) -> list[dict]:
    return client.get(f"/v1/reviews/{review_id}/audit", headers=auth("lead")).json()["items"]


def test_questions_come_as_markdown_docx_or_pdf_and_each_export_is_recorded_under_the_evaluator(client):
    job = _finished_review(client)
    rid, first = job["id"], job["review"]["findings"][0]  # round 1 grades the first criterion partial

    md = client.get(f"/v1/reviews/{rid}/questions", headers=auth("ana"))
    assert md.status_code == 200, md.text
    assert md.headers["content-type"] == "text/markdown; charset=utf-8"
    assert md.headers["content-disposition"] == 'attachment; filename="questions-Proposal-round-1.md"'
    assert md.text.startswith("# Clarification questions: Proposal\n")  # named as comparisons name it
    assert "Round 1" in md.text and f"1. **{first['title']}**" in md.text

    word = client.get(f"/v1/reviews/{rid}/questions?format=docx", headers=auth("ana"))
    assert word.status_code == 200 and word.headers["content-type"] == DOCX_TYPE
    assert word.headers["content-disposition"].endswith('filename="questions-Proposal-round-1.docx"')
    paragraphs = [p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs]
    assert any(p.startswith(f"1. {first['title']}") for p in paragraphs)

    pdf = client.get(f"/v1/reviews/{rid}/questions?format=pdf", headers=auth("lead"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "Please answer each question" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()

    assert client.get(f"/v1/reviews/{rid}/questions?format=rtf", headers=auth("ana")).status_code == 422
    exported = [e for e in _events(client, rid) if e["action"] == "questions_exported"]
    assert [(e["actor"], e["after"]) for e in exported] == [
        ("ana", {"format": "md", "round": 1}),
        ("ana", {"format": "docx", "round": 1}),
        ("lead", {"format": "pdf", "round": 1}),
    ]


def test_questions_follow_the_latest_rounds_final_grades(client):
    job = _finished_review(client)
    rid, first = job["id"], job["review"]["findings"][0]
    files = {"file": ("answer.pdf", ANSWER, "application/pdf")}
    assert client.post(f"/v1/reviews/{rid}/rounds", headers=auth("ana"), files=files).status_code == 202
    assert _wait_for_round(client, rid, 2)["status"] == "done"  # the answer closed the first criterion
    closed = client.get(f"/v1/reviews/{rid}/questions", headers=auth("ana"))
    assert "Round 2" in closed.text and "No open questions for this round." in closed.text
    assert closed.headers["content-disposition"].endswith('filename="questions-Proposal-round-2.md"')

    second = job["review"]["findings"][1]
    body = {"criterion_id": second["criterion_id"], "grade": "partial", "reason": "the answer is vague"}
    assert client.post(f"/v1/reviews/{rid}/assessments", headers=auth("ana"), json=body).status_code == 201
    reopened = client.get(f"/v1/reviews/{rid}/questions", headers=auth("ana")).text
    assert f"1. **{second['title']}**" in reopened and first["title"] not in reopened
    assert _events(client, rid)[-1]["after"] == {"format": "md", "round": 2}


def test_on_a_blind_panel_an_evaluators_questions_name_the_vendor_by_its_label(client):
    created = client.post(
        "/v1/batches",
        headers=auth("lead"),
        files=[("files", ("acme.pdf", PROPOSAL, "application/pdf"))],
        data={"blind": "true"},
    ).json()
    rid = created["items"][0]["job_id"]
    assert _wait_for_round(client, rid, 1)["status"] == "done"
    for fmt in ("md", "docx"):
        seen = client.get(f"/v1/reviews/{rid}/questions?format={fmt}", headers=auth("ana"))
        assert seen.status_code == 200
        assert seen.headers["content-disposition"].endswith(f'filename="questions-Vendor-{rid[:6]}-round-1.{fmt}"')
        text = (
            seen.text if fmt == "md" else "\n".join(p.text for p in docx.Document(io.BytesIO(seen.content)).paragraphs)
        )
        assert f"Clarification questions: Vendor {rid[:6]}" in text and "acme" not in text.lower()
    lead = client.get(f"/v1/reviews/{rid}/questions", headers=auth("lead"))
    assert "Clarification questions: Acme" in lead.text  # the key to the names stays with the lead
    created_event = client.get(f"/v1/reviews/{rid}/audit", headers=auth("ana")).json()["items"][0]
    assert created_event["action"] == "review_created" and "acme" not in str(created_event).lower()
    assert "acme.pdf" in str(_events(client, rid)[0])


def test_questions_of_a_review_that_is_not_done_are_409_and_of_an_unknown_one_404(client):
    store = client.app.state.services.store
    queued, _ = store.create_or_get(new_job(7, backend="scripted"))  # no file behind it: it never gets done
    answer = client.get(f"/v1/reviews/{queued.id}/questions", headers=auth("ana"))
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "not_ready"
    missing = client.get("/v1/reviews/0123456789abcdef/questions", headers=auth("ana"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def _ids_starting(monkeypatch, prefix: str) -> None:
    """Every new review id from here on starts with `prefix` (the rest stays random)."""
    real = uuid.uuid4
    monkeypatch.setattr("reviewer.store.jobs.uuid.uuid4", lambda: uuid.UUID(prefix + real().hex[len(prefix) :]))


def test_a_unique_prefix_of_a_review_id_names_it_on_every_review_route(client):
    job = _finished_review(client)
    rid, prefix = job["id"], job["id"][:6]
    criterion = job["review"]["findings"][1]["criterion_id"]
    assert client.get(f"/v1/reviews/{prefix}", headers=auth("ana")).json()["id"] == rid
    assert client.get(f"/v1/reviews/{prefix}/report", headers=auth("ana")).status_code == 200
    made = client.post(
        f"/v1/reviews/{prefix}/assessments", headers=auth("ana"), json={"criterion_id": criterion, "grade": "met"}
    )
    assert made.status_code == 201 and made.json()["review_id"] == rid
    decided = client.put(
        f"/v1/reviews/{prefix}/consensus/{criterion}", headers=auth("lead"), json={"grade": "met", "reason": "ok"}
    )
    assert decided.status_code == 200 and decided.json()["review_id"] == rid
    audit = client.get(f"/v1/reviews/{prefix}/audit", headers=auth("ana")).json()
    assert audit["total"] > 0 and {e["review_id"] for e in audit["items"]} == {rid}
    assert client.get(f"/v1/reviews/{prefix}/questions", headers=auth("ana")).status_code == 200
    assert client.get(f"/v1/reviews/{prefix}/rounds", headers=auth("ana")).json()["review_id"] == rid
    files = {"file": ("answer.pdf", ANSWER, "application/pdf")}
    opened = client.post(f"/v1/reviews/{prefix}/rounds", headers=auth("ana"), files=files)
    assert opened.status_code == 202 and opened.json()["review_id"] == rid
    assert _wait_for_round(client, prefix, 2)["status"] == "done"
    assert client.get(f"/v1/reviews/{prefix}/rounds/2", headers=auth("ana")).json()["number"] == 2
    assert client.get(f"/v1/reviews/{prefix}/egress", headers=auth("ana")).json()["review_id"] == rid

    for short in ("zzzz", rid[:3], "0000"):  # not hex, too short, no review: 404 all the same
        missing = client.get(f"/v1/reviews/{short}", headers=auth("ana"))
        assert missing.status_code == 404 and missing.json()["error"]["message"] == f"no review with id '{short}'"
    assert client.get("/v1/reviews/0000/audit", headers=auth("ana")).status_code == 404


def test_an_ambiguous_prefix_is_409_with_the_candidates(client, monkeypatch):
    _ids_starting(monkeypatch, "abcd")
    store = client.app.state.services.store
    ids = {store.create_or_get(new_job(n, backend="scripted"))[0].id for n in (1, 2)}
    for path in ("", "/questions", "/audit", "/rounds"):
        answer = client.get(f"/v1/reviews/abcd{path}", headers=auth("ana"))
        assert answer.status_code == 409, path
        error = answer.json()["error"]
        assert error["code"] == "ambiguous_id" and set(error["candidates"]) == ids
        assert error["message"].startswith("review id 'abcd' is ambiguous: it starts ")
        assert error["message"].endswith("; give more characters") and all(i in error["message"] for i in ids)


def test_the_resolver_takes_a_full_id_a_unique_prefix_of_four_or_more_and_lists_a_few_candidates(tmp_path, monkeypatch):
    store = JobStore(make_engine(f"sqlite:///{tmp_path / 'jobs.db'}"))
    _ids_starting(monkeypatch, "beef")
    many = [store.create_or_get(new_job(n))[0].id for n in range(7)]
    _ids_starting(monkeypatch, "cafe")
    single = store.create_or_get(new_job(99))[0].id
    assert resolve_review_id(store, single) == single
    assert resolve_review_id(store, "CAFE") == single
    with pytest.raises(AmbiguousReviewId) as raised:
        resolve_review_id(store, "beef")
    assert len(raised.value.candidates) == 5 and set(raised.value.candidates) <= set(many)
    assert raised.value.message.count(", ") == 5 and ", ..." in raised.value.message
    with pytest.raises(BadInputError, match="no review with id 'bee'"):
        resolve_review_id(store, "bee")  # three characters are never taken as a prefix
