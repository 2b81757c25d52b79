"""The web app in a real headless browser (Debian's Chromium driven by Playwright) against the real server
process (its review workers included): sign in, start an evaluation of two sample PDFs on the offline
backend from the New evaluation page, wait for it, open the comparison and a cell; and, on a seeded batch,
assess a finding (refused without a reason, recorded with one: the final grade changes) and download a
vendor's questions from the comparison. Each page is
checked for labels, alt text and grade contrast, and screenshotted at 1,280 px and at a phone's 390 px
into the test's tmp directory, or $REVIEWER_TEST_SCREENSHOTS when set."""

import os
import time
import zipfile
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
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
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
            with page.expect_download() as download:
                page.get_by_role("link", name="Questions for Coral Data (Word)").focus()
                page.keyboard.press("Enter")  # a keyboard's download, as a click's
            assert download.value.suggested_filename == "questions-Coral-Data-round-1.docx"
            document = zipfile.ZipFile(download.value.path()).read("word/document.xml").decode()
            assert "Clarification questions: Coral Data" in document
        finally:
            browser.close()
    assert (shots / "comparison.png").stat().st_size > 0


# ----- The end-to-end flow of issue 15, step by step. Steps after `open_a_cell` (follow a citation to its
# highlighted page, record an assessment, see the final grade and the audit event) extend this test.

A11Y_PROBLEMS = """() => {
  const problems = [];
  const named = (el) =>
    (el.labels && el.labels.length) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    if (!named(el)) problems.push("no label: " + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll("img")) {
    if (!el.hasAttribute("alt")) problems.push("no alt: " + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    const name = (el.innerText || el.getAttribute("aria-label") || "").trim();
    if (!name) problems.push("no name: " + el.outerHTML.slice(0, 80));
  }
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  const lum = (c) => { const [r, g, b] = rgb(c); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  for (const el of document.querySelectorAll(".grade")) {
    const s = getComputedStyle(el);
    const [a, b] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) problems.push("grade contrast " + ratio.toFixed(2) + ": " + el.className);
    if (!el.innerText.trim()) problems.push("grade without a word: " + el.className);
  }
  return problems;
}"""


def check_and_shoot(page, shots: Path, name: str) -> None:
    """No control without a label, no image without alt text, grade colours readable, a word in every
    grade; then the page at desktop and at phone width."""
    assert page.evaluate(A11Y_PROBLEMS) == [], name
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1, f"{name} is wider than a phone"
    page.set_viewport_size(DESKTOP)


def sign_in(page, server: Server) -> None:
    page.goto(f"{server.url}/web/")
    page.get_by_label("API key").fill(KEY)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/web/")
    assert page.get_by_text("Signed in as").is_visible()


def start_an_evaluation(page, server: Server, shots: Path, names: tuple[str, ...]) -> str:
    """New evaluation: two proposals, the offline grader, the estimate, a vendor name, start. The batch id."""
    page.get_by_role("link", name="New evaluation").first.click()
    page.wait_for_url("**/web/evaluations/new")
    check_and_shoot(page, shots, "new-evaluation")
    page.get_by_role("button", name="Continue to the estimate").click()  # nothing chosen: told on the form
    assert "Choose at least one proposal" in page.get_by_role("alert").inner_text()
    check_and_shoot(page, shots, "new-evaluation-error")
    page.get_by_label("Proposals (PDF or Word .docx)").set_input_files([str(SAMPLES / n) for n in names])
    assert page.locator("[data-chosen] li").count() == len(names)  # the script lists what was chosen
    page.get_by_label("Grader (backend)").select_option("offline")
    page.get_by_role("button", name="Continue to the estimate").click()
    page.wait_for_url("**/web/evaluations/drafts/*")
    assert "Free, offline" in page.locator("[data-estimate]").inner_text()
    page.get_by_label(f"Vendor of {names[0]}").fill("Coral Data Ltd")
    check_and_shoot(page, shots, "estimate")
    page.get_by_role("button", name=f"Start the evaluation of {len(names)} proposals").click()
    page.wait_for_url("**/web/batches/*")
    return page.url.rsplit("/", 1)[1]


def wait_for_the_comparison(page, shots: Path) -> None:
    """The batch page follows the reviews by itself (live.js) and shows the matrix when they are done."""
    page.get_by_role("columnheader", name="Vendor").wait_for(timeout=120_000)
    check_and_shoot(page, shots, "comparison")
    page.set_viewport_size(PHONE)
    wrap = page.locator(".matrix-wrap")
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")  # the matrix scrolls sideways on a phone
    vendor = page.locator("tbody th.vendor").first
    left = vendor.bounding_box()["x"]
    wrap.evaluate("el => el.scrollBy(400, 0)")
    assert abs(vendor.bounding_box()["x"] - left) < 1  # ... with the vendor column frozen
    page.screenshot(path=str(shots / "comparison-390-scrolled.png"))
    page.set_viewport_size(DESKTOP)


def open_a_cell(page, shots: Path) -> str:
    """By keyboard: Tab to the first grade cell of the matrix, Enter opens that finding. Its criterion id."""
    page.locator("body").focus()
    for _ in range(80):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.getAttribute('href') || ''")
        if "/web/reviews/" in href and "#c-" in href:
            break
    else:
        raise AssertionError("no matrix cell is reachable with the keyboard")
    page.keyboard.press("Enter")
    page.wait_for_url("**/web/reviews/*")
    criterion = href.split("#c-", 1)[1]
    assert page.locator(f"#c-{criterion}").is_visible()
    check_and_shoot(page, shots, "finding")
    return criterion


def test_an_evaluation_started_in_the_browser_from_upload_to_a_finding(server, tmp_path):
    shots = Path(os.environ.get("REVIEWER_TEST_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport=DESKTOP)
            sign_in(page, server)
            batch_id = start_an_evaluation(page, server, shots, ("coral_data.pdf", "helix_systems.pdf"))
            wait_for_the_comparison(page, shots)
            assert page.get_by_role("rowheader", name="Coral Data Ltd").is_visible()
            page.goto(f"{server.url}/web/")
            row = page.locator(f"tr[data-batch='{batch_id}']")
            assert row.get_by_text("done").first.is_visible() and "Coral Data Ltd" in row.inner_text()
            check_and_shoot(page, shots, "home")
            page.goto(f"{server.url}/web/batches/{batch_id}")
            open_a_cell(page, shots)
        finally:
            browser.close()
    assert (shots / "finding-390.png").stat().st_size > 0
