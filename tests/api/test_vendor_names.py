"""The vendor name sent with a file is the review's, also when the same file was reviewed before."""

from pathlib import Path

from fastapi.testclient import TestClient

from reviewer.api.app import create_app
from reviewer.config import ApiSettings, JobSettings, Settings, StorageSettings

KEY = "test-api-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
SAMPLE = (Path(__file__).resolve().parents[2] / "samples" / "coral_data.pdf").read_bytes()


def upload(client, **form):
    files = {"file": ("p.pdf", SAMPLE, "application/pdf")}
    return client.post("/v1/reviews?wait=true", headers=AUTH, files=files, data=form)


def test_a_reupload_with_another_vendor_name_renames_the_existing_review(tmp_path):
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        api=ApiSettings(keys=[KEY]),
        jobs=JobSettings(poll_seconds=0.05),
    )
    with TestClient(create_app(settings)) as client:
        first = upload(client, vendor_name="Coral Data").json()
        again = upload(client, vendor_name="Coral Data Ltd (EU)")
        assert again.status_code == 200 and again.json()["deduplicated"] is True
        assert again.json()["id"] == first["id"] and again.json()["vendor_name"] == "Coral Data Ltd (EU)"
        shown = client.get(f"/v1/reviews/{first['id']}", headers=AUTH).json()
        assert shown["vendor_name"] == shown["review"]["vendor_name"] == "Coral Data Ltd (EU)"
        unnamed = upload(client).json()  # no name sent: the name stays
        assert unnamed["vendor_name"] == "Coral Data Ltd (EU)"
