"""A blind panel scores independently: an evaluator other than the lead does not see another evaluator's
grade of a criterion (nor its reason or note) until they submitted their own — not in the review, and not in
the batch's comparison, its downloads (the XLSX's Audit sheet), the audit trail or the web pages."""

from fastapi.testclient import TestClient

from reviewer.config import ApiSettings, JobSettings, Settings, StorageSettings
from reviewer.server import create_server
from reviewer.store import BatchItem
from tests.web.test_blind_pages import readable
from tests.web.test_routes import SAMPLE, sign_in

KEYS = {"ana": "ana-key-0123456789abcdef", "bob": "bob-key-0123456789abcdef", "lead": "lead-key-0123456789abcd"}
REASON = "Bob-thinks-the-clause-is-weak"


def auth(who: str) -> dict:
    return {"Authorization": f"Bearer {KEYS[who]}"}


def cell(client, batch_id: str, who: str, criterion_id: str) -> tuple[str, dict]:
    row = client.get(f"/v1/batches/{batch_id}", headers=auth(who)).json()["comparison"]["rows"][0]
    return row["grades"][criterion_id], row["panel"].get(criterion_id, {})


def test_another_evaluator_s_grade_shows_in_the_comparison_and_audit_only_once_one_submitted(tmp_path):
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        api=ApiSettings(keys=[f"{n}:{k}" for n, k in KEYS.items()], lead_evaluators=["lead"]),
        jobs=JobSettings(poll_seconds=0.05),
    )
    with TestClient(create_server(settings)) as client:
        job = client.post(
            "/v1/reviews?wait=true",
            headers=auth("lead"),
            files={"file": ("coral.pdf", SAMPLE, "application/pdf")},
            data={"backend": "offline"},
        ).json()
        finding = job["review"]["findings"][0]
        criterion, ai = finding["criterion_id"], finding["grade"]
        other = "partial" if ai != "partial" else "missing"
        batch = client.app.state.services.store.create_batch(
            "default", True, [BatchItem(file_name="coral.pdf", job_id=job["id"])], blind=True
        )
        assert (
            client.post(
                f"/v1/reviews/{job['id']}/assessments",
                headers=auth("bob"),
                json={"criterion_id": criterion, "grade": other, "reason": REASON},
            ).status_code
            == 201
        )

        # ana has not assessed it: bob's grade is nowhere she can read
        assert cell(client, batch.id, "ana", criterion) == (
            ai,
            {"source": "ai", "evaluators": 0, "disagreement": False},
        )
        for fmt in ("xlsx", "csv", "md", "html"):
            download = client.get(f"/v1/batches/{batch.id}/comparison.{fmt}", headers=auth("ana"))
            assert download.status_code == 200 and REASON not in readable(download)
        audit = client.get(f"/v1/reviews/{job['id']}/audit", headers=auth("ana")).json()["items"]
        [hidden] = [e for e in audit if e["action"] == "assessed"]
        assert hidden["actor"] == "bob" and hidden["after"]["hidden"] and REASON not in str(audit)
        assert other not in str(hidden)
        sign_in(client, "ana")
        for path in (f"/web/batches/{batch.id}", f"/web/reviews/{job['id']}/audit", f"/web/reviews/{job['id']}"):
            page = client.get(path)
            assert page.status_code == 200 and REASON not in page.text, path
        client.cookies.clear()

        # the lead sees bob's grade as the final one
        assert cell(client, batch.id, "lead", criterion)[0] == other
        assert REASON in readable(client.get(f"/v1/batches/{batch.id}/comparison.xlsx", headers=auth("lead")))

        # once ana submitted her own, bob's shows to her, with the disagreement
        mine = {"criterion_id": criterion, "grade": ai}
        assert client.post(f"/v1/reviews/{job['id']}/assessments", headers=auth("ana"), json=mine).status_code == 201
        grade, panel = cell(client, batch.id, "ana", criterion)
        assert panel["evaluators"] == 2 and panel["disagreement"] is True
        assert grade == ai  # two evaluators who disagree: the grader's grade stands until the lead decides
        assert REASON in str(client.get(f"/v1/reviews/{job['id']}/audit", headers=auth("ana")).json())
