"""An API batch under a rubric taken from an RFP offers the compliance matrix beside the comparison."""

import csv
import io
import time
from pathlib import Path

from fastapi.testclient import TestClient

from reviewer.api.app import create_app
from reviewer.cli import main
from reviewer.config import ApiSettings, JobSettings, Settings, StorageSettings

ROOT = Path(__file__).resolve().parents[2]
KEY = "test-api-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
SAMPLE = (ROOT / "samples" / "coral_data.pdf").read_bytes()


def rfp_rubrics(tmp_path, capsys) -> Path:
    """A team rubrics folder holding `city`: the first sample RFP's requirements, taken by the offline reader."""
    rubrics = tmp_path / "rubrics"
    rubrics.mkdir()
    rfp = sorted((ROOT / "samples" / "rfps").glob("*.pdf"))[0]
    assert main(["rubric", "from-rfp", str(rfp), "--backend", "offline", "-o", str(rubrics / "city.yaml")]) == 0
    capsys.readouterr()
    return rubrics


def finished(client, rubric: str) -> dict:
    files = [("files", ("coral.pdf", SAMPLE, "application/pdf"))]
    created = client.post("/v1/batches", headers=AUTH, files=files, data={"rubric": rubric}).json()
    deadline = time.monotonic() + 30
    while (batch := client.get(f"/v1/batches/{created['id']}", headers=AUTH).json())["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return batch


def test_a_batch_under_an_rfp_rubric_downloads_its_compliance_matrix(tmp_path, capsys):
    rubrics = rfp_rubrics(tmp_path, capsys)
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data", rubrics_dir=rubrics),
        api=ApiSettings(keys=[KEY]),
        jobs=JobSettings(poll_seconds=0.05),
    )
    with TestClient(create_app(settings)) as client:
        batch = finished(client, "city")
        assert batch["downloads"]["compliance_csv"] == f"/v1/batches/{batch['id']}/compliance.csv"
        answer = client.get(batch["downloads"]["compliance_csv"], headers=AUTH)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(answer.text)))
        assert rows[0][:3] == ["reference", "requirement", "mandatory"] and len(rows) > 3
        assert client.get(batch["downloads"]["compliance_xlsx"], headers=AUTH).status_code == 200

        plain = finished(client, "default")
        assert "compliance_csv" not in plain["downloads"]
        missing = client.get(f"/v1/batches/{plain['id']}/compliance.csv", headers=AUTH)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_a_batch_applies_the_mandatory_policy_of_bulk_on_request_and_its_links_keep_it(tmp_path, capsys):
    rubrics = rfp_rubrics(tmp_path, capsys)
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data", rubrics_dir=rubrics),
        api=ApiSettings(keys=[KEY]),
        jobs=JobSettings(poll_seconds=0.05),
    )
    with TestClient(create_app(settings)) as client:
        batch = finished(client, "city")
        flagged = batch["comparison"]["rows"][0]
        assert flagged["failed_mandatory"] and not flagged["excluded"] and flagged["rank"] == 1
        assert "?" not in batch["downloads"]["csv"]

        excluded = client.get(f"/v1/batches/{batch['id']}?mandatory=exclude", headers=AUTH).json()
        row = excluded["comparison"]["rows"][0]
        assert row["excluded"] and row["rank"] is None and row["failed_mandatory"] == flagged["failed_mandatory"]
        links = excluded["downloads"]
        assert links["csv"].endswith("/comparison.csv?mandatory=exclude")
        assert links["compliance_xlsx"].endswith("/compliance.xlsx?mandatory=exclude")
        comparison_md = client.get(links["md"], headers=AUTH).text
        assert "excluded from the ranking" in comparison_md
        assert "excluded from the ranking" not in client.get(batch["downloads"]["md"], headers=AUTH).text
        assert client.get(links["compliance_csv"], headers=AUTH).status_code == 200

        bad = client.get(f"/v1/batches/{batch['id']}/comparison.csv?mandatory=drop", headers=AUTH)
        assert bad.status_code == 422
