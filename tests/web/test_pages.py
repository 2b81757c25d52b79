"""The web app in a real headless browser (Debian's Chromium driven by Playwright) against the real server
process: sign in, open an offline-reviewed sample's review, assess it (refused without a reason, recorded
with one: the final grade changes), open the comparison. Screenshots go to the test's tmp directory, or
to $REVIEWER_TEST_SCREENSHOTS when set."""

import os
import time
from pathlib import Path

import httpx2
import pytest

from tests.test_server_process import SAMPLES, Server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
KEY = "ana-web-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: install Debian's chromium (apt-get install chromium)"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path / "data", "http://127.0.0.1:9")  # the offline grader: no model is called
    server.env.update({"REVIEWER_API_KEYS": f"ana:{KEY}", "REVIEWER_BACKEND": "offline"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def seed(server: Server) -> tuple[dict, str]:
    """A batch of two offline-reviewed samples, finished; returns (one review, the batch id)."""
    files = [
        ("files", (name, (SAMPLES / name).read_bytes(), "application/pdf"))
        for name in ("coral_data.pdf", "helix_systems.pdf")
    ]
    created = httpx2.post(
        f"{server.url}/v1/batches", headers=AUTH, files=files, data={"backend": "offline"}, timeout=30
    )
    assert created.status_code == 202, created.text
    batch = created.json()
    deadline = time.monotonic() + 120
    while batch["status"] != "done":
        assert time.monotonic() < deadline, batch
        time.sleep(0.3)
        batch = httpx2.get(f"{server.url}/v1/batches/{batch['id']}", headers=AUTH, timeout=10).json()
    job_id = next(item["job_id"] for item in batch["items"] if item["file_name"] == "coral_data.pdf")
    review = httpx2.get(f"{server.url}/v1/reviews/{job_id}", headers=AUTH, timeout=10).json()
    return review, batch["id"]


def test_sign_in_assess_and_compare_in_a_real_browser(server, tmp_path):
    review, batch_id = seed(server)
    first = review["review"]["findings"][0]
    cid, ai = first["criterion_id"], first["grade"]
    other = "missing" if ai != "missing" else "met"
    shots = Path(os.environ.get("REVIEWER_TEST_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{server.url}/web/")
            assert page.get_by_role("heading", name="Sign in").is_visible()
            page.get_by_label("API key").fill(KEY)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{server.url}/web/")
            assert page.get_by_text("Signed in as").is_visible()
            page.screenshot(path=str(shots / "home.png"), full_page=True)

            page.goto(f"{server.url}/web/reviews/{review['id']}")
            assert page.get_by_text("Offline grader.").first.is_visible()
            section = page.locator(f"#c-{cid}")
            section.get_by_label("Grade", exact=True).select_option(other)
            section.get_by_role("button", name="Record assessment").click()
            section = page.locator(f"#c-{cid}")
            assert "a reason is required" in section.get_by_role("alert").inner_text()
            page.screenshot(path=str(shots / "review-error.png"), full_page=False)

            section.get_by_label("Reason", exact=False).fill("Page 2 contradicts this.")
            section.get_by_role("button", name="Record assessment").click()
            page.wait_for_url(f"**/web/reviews/{review['id']}?saved=*")
            section = page.locator(f"#c-{cid}")
            assert "Your assessment was recorded" in section.inner_text()
            final = section.locator("table.grades tr", has_text="Final grade")
            assert other.replace("_", " ") in final.inner_text().lower() and "from the evaluator" in final.inner_text()
            section.screenshot(path=str(shots / "review-assessed.png"))

            page.goto(f"{server.url}/web/batches/{batch_id}")
            matrix = page.get_by_role("table")
            assert matrix.get_by_role("columnheader", name="Vendor").is_visible()
            assert matrix.get_by_role("link").count() >= 2  # each vendor's review, and its cells
            page.screenshot(path=str(shots / "comparison.png"), full_page=True)
            with page.expect_download() as download:
                page.get_by_role("link", name="CSV").click()
            assert download.value.suggested_filename == f"comparison-{batch_id}.csv"
        finally:
            browser.close()
    assert (shots / "comparison.png").stat().st_size > 0
