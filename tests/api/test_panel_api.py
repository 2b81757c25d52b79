"""The panel over the API: named evaluators assess, the lead sets consensus, the audit trail records it."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reviewer.api.app import create_app
from reviewer.config import ApiSettings, JobSettings, Settings, StorageSettings

SAMPLE = (Path(__file__).resolve().parents[2] / "samples" / "coral_data.pdf").read_bytes()
KEYS = {"ana": "ana-key-0123456789abcdef", "ben": "ben-key-0123456789abcdef", "lead": "lead-key-0123456789abcd"}


def auth(who: str) -> dict:
    return {"Authorization": f"Bearer {KEYS[who]}"}


@pytest.fixture
def client(tmp_path):
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        api=ApiSettings(keys=[f"{name}:{key}" for name, key in KEYS.items()], lead_evaluators=["lead"]),
        jobs=JobSettings(poll_seconds=0.05),
    )
    with TestClient(create_app(settings)) as c:
        yield c


def finished_review(client, **form) -> dict:
    response = client.post(
        "/v1/reviews?wait=true",
        headers=auth("ana"),
        files={"file": ("coral.pdf", SAMPLE, "application/pdf")},
        data=form,
    )
    assert response.status_code == 200, response.text
    return response.json()


def finding(body: dict, criterion_id: str) -> dict:
    return next(f for f in body["review"]["findings"] if f["criterion_id"] == criterion_id)


def test_an_evaluator_confirms_or_changes_a_grade_and_the_review_shows_the_final_grade(client):
    job = finished_review(client)
    first = job["review"]["findings"][0]
    cid, ai = first["criterion_id"], first["grade"]
    other = "missing" if ai != "missing" else "met"
    url = f"/v1/reviews/{job['id']}/assessments"

    refused = client.post(url, headers=auth("ben"), json={"criterion_id": cid, "grade": other})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "reason_required"
    created = client.post(
        url, headers=auth("ben"), json={"criterion_id": cid, "grade": other, "reason": "page 2 says no"}
    )
    assert created.status_code == 201 and created.json()["evaluator"] == "ben"

    body = client.get(f"/v1/reviews/{job['id']}", headers=auth("ana")).json()
    f = finding(body, cid)
    assert (f["ai_grade"], f["final_grade"], f["grade"], f["final_source"]) == (ai, other, other, "evaluator")
    assert f["disagreement"] is True and [a["evaluator"] for a in f["assessments"]] == ["ben"]
    untouched = body["review"]["findings"][1]
    assert untouched["final_source"] == "ai" and untouched["confirmed"] is False
    assert body["review"]["assessed"] is True


def test_unknown_criteria_unused_grades_and_unfinished_reviews_are_refused(client):
    job = finished_review(client)
    url = f"/v1/reviews/{job['id']}/assessments"
    unknown = client.post(url, headers=auth("ana"), json={"criterion_id": "nope", "grade": "met", "reason": "x"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_criterion"
    bad = client.post(url, headers=auth("ana"), json={"criterion_id": "x", "grade": "excellent", "reason": "x"})
    assert bad.status_code == 422
    missing = client.post(
        "/v1/reviews/0123/assessments", headers=auth("ana"), json={"criterion_id": "x", "grade": "met"}
    )
    assert missing.status_code == 404


def test_only_a_lead_sets_consensus_and_it_overrides_the_evaluators(client):
    job = finished_review(client)
    cid = job["review"]["findings"][0]["criterion_id"]
    url = f"/v1/reviews/{job['id']}/assessments"
    client.post(url, headers=auth("ana"), json={"criterion_id": cid, "grade": "partial", "reason": "vague"})
    client.post(url, headers=auth("ben"), json={"criterion_id": cid, "grade": "red_flag", "reason": "reuse"})
    two = finding(client.get(f"/v1/reviews/{job['id']}", headers=auth("lead")).json(), cid)
    assert two["final_source"] == "ai" and two["disagreement"] is True

    consensus = f"/v1/reviews/{job['id']}/consensus/{cid}"
    forbidden = client.put(consensus, headers=auth("ana"), json={"grade": "partial", "reason": "we agree"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    done = client.put(consensus, headers=auth("lead"), json={"grade": "red_flag", "reason": "clause 4 allows reuse"})
    assert done.status_code == 200 and done.json()["lead"] == "lead"
    body = client.get(f"/v1/reviews/{job['id']}", headers=auth("ana")).json()
    f = finding(body, cid)
    assert (f["final_grade"], f["final_source"]) == ("red_flag", "consensus")
    assert body["review"]["red_flag_count"] >= 1 and body["review"]["verdict"] == "red_flags"


def test_the_audit_trail_lists_who_did_what_oldest_first_and_keeps_a_tombstone(client):
    job = finished_review(client)
    cid = job["review"]["findings"][0]["criterion_id"]
    ai = job["review"]["findings"][0]["grade"]
    client.post(f"/v1/reviews/{job['id']}/assessments", headers=auth("ana"), json={"criterion_id": cid, "grade": ai})
    client.get(f"/v1/reviews/{job['id']}/report", headers=auth("ben"))
    audit = client.get(f"/v1/reviews/{job['id']}/audit?limit=2", headers=auth("ana")).json()
    assert audit["total"] == 4 and [e["action"] for e in audit["items"]] == ["review_created", "ai_graded"]
    assert client.delete(f"/v1/reviews/{job['id']}", headers=auth("lead")).status_code == 204
    events = client.get(f"/v1/reviews/{job['id']}/audit", headers=auth("ana")).json()["items"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("review_created", "ana"),
        ("ai_graded", "grader:offline"),
        ("assessed", "ana"),
        ("report_exported", "ben"),
        ("review_deleted", "lead"),
    ]
    assert events[-1]["before"]["file_name"] == "coral.pdf"


def test_a_blind_panel_hides_names_and_other_evaluators_grades_until_one_has_submitted(client):
    response = client.post(
        "/v1/batches",
        headers=auth("lead"),
        files=[("files", ("coral.pdf", SAMPLE, "application/pdf"))],
        data={"blind": "true"},
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["items"][0]["job_id"]
    import time

    deadline = time.monotonic() + 30
    while client.get(f"/v1/reviews/{job_id}", headers=auth("lead")).json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    body = client.get(f"/v1/reviews/{job_id}", headers=auth("lead")).json()
    cid, ai = body["review"]["findings"][0]["criterion_id"], body["review"]["findings"][0]["grade"]
    client.post(f"/v1/reviews/{job_id}/assessments", headers=auth("ana"), json={"criterion_id": cid, "grade": ai})

    bens = client.get(f"/v1/reviews/{job_id}", headers=auth("ben")).json()
    assert "coral" not in bens["file_name"].lower() and bens["review"]["vendor_name"].startswith("Vendor ")
    assert finding(bens, cid)["assessments"] == []
    client.post(f"/v1/reviews/{job_id}/assessments", headers=auth("ben"), json={"criterion_id": cid, "grade": ai})
    bens = client.get(f"/v1/reviews/{job_id}", headers=auth("ben")).json()
    assert sorted(a["evaluator"] for a in finding(bens, cid)["assessments"]) == ["ana", "ben"]
    leads = client.get(f"/v1/reviews/{job_id}", headers=auth("lead")).json()
    assert leads["file_name"] == "coral.pdf"
    sha = leads["sha256"]
    listed = client.get("/v1/reviews", headers=auth("ben")).json()["items"]
    assert [i["file_name"] for i in listed] == [bens["file_name"]] and sha not in str(listed) and sha not in str(bens)
    assert client.get("/v1/reviews", headers=auth("lead")).json()["items"][0]["file_name"] == "coral.pdf"


def test_bare_keys_are_named_by_position_and_name_key_entries_by_their_name():
    api = ApiSettings(keys=["bare-key-0123456789abc", "ana:named-key-0123456789"])
    assert [(n, k.get_secret_value()) for n, k in api.evaluators()] == [
        ("key-1", "bare-key-0123456789abc"),
        ("ana", "named-key-0123456789"),
    ]
    with pytest.raises(ValueError):
        ApiSettings(keys=["ana:short"])


def test_a_batch_comparison_uses_the_panels_final_grades(client):
    import time

    created = client.post(
        "/v1/batches", headers=auth("lead"), files=[("files", ("coral.pdf", SAMPLE, "application/pdf"))]
    ).json()
    deadline = time.monotonic() + 30
    while (batch := client.get(f"/v1/batches/{created['id']}", headers=auth("lead")).json())["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    [row] = batch["comparison"]["rows"]
    job_id = batch["items"][0]["job_id"]
    target = next(cid for cid, grade in row["grades"].items() if grade != "red_flag")
    reply = client.put(
        f"/v1/reviews/{job_id}/consensus/{target}", headers=auth("lead"), json={"grade": "red_flag", "reason": "reuse"}
    )
    assert reply.status_code == 200
    [after] = client.get(f"/v1/batches/{created['id']}", headers=auth("lead")).json()["comparison"]["rows"]
    assert after["grades"][target] == "red_flag" and after["red_flags"] == row["red_flags"] + 1
    assert after["overall_score"] <= row["overall_score"]
    import io

    from openpyxl import load_workbook

    csv_text = client.get(f"/v1/batches/{created['id']}/comparison.csv", headers=auth("lead")).text
    assert "RED FLAG (consensus; disputed)" in csv_text and "(unconfirmed)" in csv_text
    book = load_workbook(
        io.BytesIO(client.get(f"/v1/batches/{created['id']}/comparison.xlsx", headers=auth("lead")).content)
    )
    assert book.sheetnames == ["Comparison", "Findings", "Audit"]
    audit = [[cell.value for cell in row] for row in book["Audit"].iter_rows(min_row=2)]
    assert [r[3] for r in audit] == ["review_created", "ai_graded", "consensus_set"]
    assert (audit[2][2], audit[2][4]) == ("lead", target) and audit[2][5].endswith("-> red_flag (reuse)")
    findings = book["Findings"]
    assert [c.value for c in findings[1]][-1] == "grade source"
