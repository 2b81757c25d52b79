"""An evaluation under a rubric taken from an RFP: the comparison page offers the compliance matrix and the
mandatory-requirement policy, as `reviewer bulk` and the API's batches do."""

import csv
import io
from pathlib import Path

from fastapi.testclient import TestClient

from reviewer.config import ApiSettings, JobSettings, Settings, StorageSettings
from reviewer.server import create_server
from tests.api.test_compliance_api import rfp_rubrics
from tests.web.test_evaluations import CORAL, HELIX, start, upload, wait_done
from tests.web.test_routes import KEYS, sign_in

ROOT = Path(__file__).resolve().parents[2]


def evaluation(client, rubric: str) -> str:
    started = start(
        client, upload(client, [("coral.pdf", CORAL), ("helix.pdf", HELIX)], rubric=rubric).headers["location"]
    )
    batch_id = started.headers["location"].rsplit("/", 1)[1]
    wait_done(client, batch_id)
    return batch_id


def test_an_rfp_evaluation_downloads_its_compliance_matrix_under_the_chosen_mandatory_policy(tmp_path, capsys):
    rubrics = rfp_rubrics(tmp_path, capsys)
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data", rubrics_dir=rubrics),
        api=ApiSettings(keys=[f"{n}:{k}" for n, k in KEYS.items()], lead_evaluators=["lead"]),
        jobs=JobSettings(poll_seconds=0.05),
    )
    with TestClient(create_server(settings)) as client:
        sign_in(client)
        batch_id = evaluation(client, "city")
        page = client.get(f"/web/batches/{batch_id}")
        assert page.status_code == 200
        assert f'href="/web/batches/{batch_id}/compliance.csv"' in page.text and "Compliance matrix (CSV)" in page.text
        assert '<label for="mandatory">' in page.text and 'id="mandatory"' in page.text
        assert "fails mandatory" in page.text  # the offline grader leaves the RFP's musts unmet in these samples

        matrix = client.get(f"/web/batches/{batch_id}/compliance.csv")
        assert matrix.status_code == 200 and matrix.headers["content-type"].startswith("text/csv")
        assert f'filename="compliance-{batch_id}.csv"' in matrix.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(matrix.text)))
        assert rows[0][:3] == ["reference", "requirement", "mandatory"] and len(rows) > 3
        xlsx = client.get(f"/web/batches/{batch_id}/compliance.xlsx")
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"

        excluded = client.get(f"/web/batches/{batch_id}?mandatory=exclude")
        assert "excluded: fails mandatory" in excluded.text
        assert f"/web/batches/{batch_id}/compliance.csv?mandatory=exclude" in excluded.text  # links keep the choice
        assert f"/web/batches/{batch_id}/comparison.csv?mandatory=exclude" in excluded.text
        assert '<option value="exclude" selected>' in excluded.text
        flagged_csv = client.get(f"/web/batches/{batch_id}/comparison.csv").text
        excluded_csv = client.get(f"/web/batches/{batch_id}/comparison.csv?mandatory=exclude").text
        assert flagged_csv != excluded_csv

        plain = evaluation(client, "default")
        plain_page = client.get(f"/web/batches/{plain}")
        assert "compliance.csv" not in plain_page.text and 'id="mandatory"' not in plain_page.text
        missing = client.get(f"/web/batches/{plain}/compliance.csv")
        assert missing.status_code == 404 and "no RFP requirements" in missing.text

        client.cookies.clear()
        assert client.get(f"/web/batches/{batch_id}/compliance.csv").status_code == 401
