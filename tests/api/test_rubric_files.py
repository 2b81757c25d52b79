"""A broken file in REVIEWER_RUBRICS_DIR is skipped and reported, never a failure for the others or a path."""

from pathlib import Path

from fastapi.testclient import TestClient

from reviewer.api.app import create_app
from reviewer.config import ApiSettings, JobSettings, Settings, StorageSettings

KEY = "test-api-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
DEFAULT = (Path(__file__).resolve().parents[2] / "reviewer" / "rubrics" / "default.yaml").read_text()
SAMPLE = (Path(__file__).resolve().parents[2] / "samples" / "coral_data.pdf").read_bytes()


def test_one_broken_rubric_file_is_skipped_logged_and_reported_without_its_path(tmp_path, capfd):
    rubrics = tmp_path / "team-rubrics"
    rubrics.mkdir()
    (rubrics / "ours.yaml").write_text(DEFAULT.replace("id: ai_vendor_checklist", "id: our_checklist", 1))
    (rubrics / "broken.yaml").write_text("id: [unclosed\n")
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data", rubrics_dir=rubrics),
        api=ApiSettings(keys=[KEY]),
        jobs=JobSettings(poll_seconds=0.05),
    )
    with TestClient(create_app(settings)) as client:
        listed = client.get("/v1/rubrics", headers=AUTH)
        assert listed.status_code == 200
        assert {"ours", "default"} <= {r["name"] for r in listed.json()} and "broken" not in listed.text
        by_id = client.post(
            "/v1/reviews?wait=true",
            headers=AUTH,
            files={"file": ("p.pdf", SAMPLE, "application/pdf")},
            data={"rubric": "our_checklist"},
        )
        assert by_id.status_code == 200 and by_id.json()["rubric"]["name"] == "ours"
        named = client.post(
            "/v1/reviews", headers=AUTH, files={"file": ("p.pdf", SAMPLE, "application/pdf")}, data={"rubric": "broken"}
        )
        assert named.status_code == 422 and str(rubrics) not in named.text and "broken.yaml" in named.text
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["warnings"] == ["rubric 'broken' is invalid and skipped (see the server log)"]
        assert str(rubrics) not in ready.text
    assert "rubric file skipped: broken.yaml:2:1: not valid YAML" in capfd.readouterr().err  # the log says why
