"""The review's pages in a real headless browser (Debian's Chromium driven by Playwright) against the real
server process, with JavaScript off (every form posts and redirects): follow a citation to its page where
the quote is marked beside the page's picture, record an assessment with a reason, see the final grade and
the audit event; the lead sets consensus. Then, with JavaScript on to measure: every control has a label,
every image its text, nothing scrolls sideways at a phone's width. Screenshots of each page go to the
test's tmp directory, or to $REVIEWER_TEST_SCREENSHOTS when set. On a blind panel, an evaluator reads the
proposal's and a round-2 answer's pages masked (text and picture) and follows a round-2 citation to the
answer's own page; the lead reads the original."""

import os
import re
import time
from pathlib import Path

import httpx2
import pytest

from tests.pdfs import text_pdf
from tests.test_server_process import SAMPLES, Server
from tests.web.test_pages import ARGS, CHROMIUM, KEY, seed

LEAD_KEY = "lea-web-key-0123456789abcdef"
ANA_KEY = KEY  # the key seed() uploads with

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: install Debian's chromium (apt-get install chromium)"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")

UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => el.tagName === 'BUTTON' ? !el.textContent.trim()
                : !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML)"""
IMAGES_WITHOUT_ALT = "() => [...document.images].filter(i => !i.getAttribute('alt')).map(i => i.outerHTML)"
# elements that stick out of the page sideways (inside a sideways-scrolling box is fine: e.g. a wide table)
SIDEWAYS = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(el => !el.closest('.scroll'))
  .map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))
  .slice(0, 5)"""


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path / "data", "http://127.0.0.1:9")  # the offline grader: no model is called
    server.env.update(
        {
            "REVIEWER_API_KEYS": f"ana:{ANA_KEY},lea:{LEAD_KEY}",
            "REVIEWER_LEAD_EVALUATORS": "lea",
            "REVIEWER_BACKEND": "offline",
        }
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def sign_in(page, url: str, key: str) -> None:
    page.goto(f"{url}/web/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/web/")


def test_follow_a_citation_assess_and_read_the_audit_in_a_real_browser(server, tmp_path):
    review, _ = seed(server)
    finding = next(f for f in review["review"]["findings"] if any(c["verified"] for c in f["citations"]))
    cid, ai = finding["criterion_id"], finding["grade"]
    index, citation = next((i, c) for i, c in enumerate(finding["citations"]) if c["verified"])
    other = "missing" if ai != "missing" else "met"
    rid = review["id"]
    shots = Path(os.environ.get("REVIEWER_TEST_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            no_js = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
            page = no_js.new_page()
            sign_in(page, server.url, ANA_KEY)
            page.goto(f"{server.url}/web/reviews/{rid}")
            assert page.get_by_role("heading", name="The proposal").is_visible()
            page.screenshot(path=str(shots / "review.png"), full_page=True)

            section = page.locator(f"#c-{cid}")
            section.locator(f'a[href$="#q-{cid}-{index}"]').click()
            page.wait_for_url(f"**/web/reviews/{rid}/pages/{citation['page']}#q-{cid}-{index}")
            mark = page.locator(f"#q-{cid}-{index} + mark")
            words = mark.inner_text().split()
            assert mark.is_visible() and words and words[0] in citation["quote"]
            picture = page.get_by_role("img", name=re.compile(f"Page {citation['page']} of the proposal"))
            assert picture.is_visible() and picture.evaluate("img => img.naturalWidth") > 0
            page.screenshot(path=str(shots / "proposal-page.png"), full_page=False)

            page.get_by_role("link", name="Back to the review").click()
            section = page.locator(f"#c-{cid}")
            section.get_by_label("Grade", exact=True).select_option(other)
            section.get_by_label("Reason", exact=False).fill("Page 2 says <b>otherwise</b>.")
            section.get_by_role("button", name="Record assessment").click()
            page.wait_for_url(f"**/web/reviews/{rid}?saved=*")
            section = page.locator(f"#c-{cid}")
            final = section.locator("table.grades tr", has_text="Final grade")
            assert other.replace("_", " ") in final.inner_text().lower() and "from the evaluator" in final.inner_text()
            assert "Page 2 says <b>otherwise</b>." in section.locator("table.assessments").inner_text()
            assert section.get_by_role("button", name="Set consensus").count() == 0  # ana does not lead
            section.screenshot(path=str(shots / "review-assessed.png"))

            page.get_by_role("link", name="Audit trail").click()
            page.wait_for_url(f"**/web/reviews/{rid}/audit")
            last = page.locator("table.audit tbody tr").last
            assert "Assessment recorded" in last.inner_text() and "ana" in last.inner_text()
            assert "Page 2 says <b>otherwise</b>." in last.inner_text()
            page.screenshot(path=str(shots / "audit.png"), full_page=True)
            no_js.close()

            lead = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
            page = lead.new_page()
            sign_in(page, server.url, LEAD_KEY)
            page.goto(f"{server.url}/web/reviews/{rid}#c-{cid}")
            section = page.locator(f"#c-{cid}")
            section.get_by_label("Consensus grade").select_option(ai)
            section.get_by_label("Reason for the panel's decision").fill("The panel met; the grader was right.")
            section.get_by_role("button", name="Set consensus").click()
            page.wait_for_url(f"**/web/reviews/{rid}?agreed=*")
            final = page.locator(f"#c-{cid} table.grades tr", has_text="Final grade")
            assert "from the lead's consensus" in final.inner_text()
            page.locator(f"#c-{cid}").screenshot(path=str(shots / "review-consensus.png"))
            lead.close()

            measured = browser.new_context(viewport={"width": 1280, "height": 900})
            page = measured.new_page()
            sign_in(page, server.url, LEAD_KEY)
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                for name, path in (
                    ("review", f"/web/reviews/{rid}"),
                    ("proposal-page", f"/web/reviews/{rid}/pages/{citation['page']}"),
                    ("audit", f"/web/reviews/{rid}/audit"),
                ):
                    page.goto(f"{server.url}{path}")
                    assert page.evaluate(UNLABELLED_CONTROLS) == [], (name, width)
                    assert page.evaluate(IMAGES_WITHOUT_ALT) == [], (name, width)
                    assert page.evaluate(SIDEWAYS) == [], (name, width)
                    if width == 390:
                        page.screenshot(path=str(shots / f"{name}-phone.png"), full_page=True)
            measured.close()
        finally:
            browser.close()
    assert (shots / "audit.png").stat().st_size > 0


ANSWER = text_pdf(
    [
        "Coral Data Services: answers to the clarification questions",
        "Data safety. All Client data is stored and processed in the EU only.\n"
        "Client data is never sent to external model APIs.\n"
        "Client data is never reused for training any model other than the Client's own model.",
    ]
)


def _blind_review_with_round_2(server) -> tuple[str, dict]:
    """A blind panel's review of the Coral sample, with the vendor's answer graded as round 2 (as the lead)."""
    lead = {"Authorization": f"Bearer {LEAD_KEY}"}
    sample = ("files", ("coral_data.pdf", (SAMPLES / "coral_data.pdf").read_bytes(), "application/pdf"))
    created = httpx2.post(
        f"{server.url}/v1/batches", headers=lead, files=[sample], data={"blind": "true", "backend": "offline"}
    )
    assert created.status_code == 202, created.text
    batch, deadline = created.json(), time.monotonic() + 120
    while batch["status"] != "done":
        assert time.monotonic() < deadline, batch
        time.sleep(0.3)
        batch = httpx2.get(f"{server.url}/v1/batches/{batch['id']}", headers=lead, timeout=10).json()
    rid = batch["items"][0]["job_id"]
    answer = {"file": ("coral-answers.pdf", ANSWER, "application/pdf")}
    assert httpx2.post(f"{server.url}/v1/reviews/{rid}/rounds", headers=lead, files=answer).status_code == 202
    while True:
        rounds = httpx2.get(f"{server.url}/v1/reviews/{rid}/rounds", headers=lead, timeout=10).json()["items"]
        if rounds[-1]["number"] == 2 and rounds[-1]["status"] in ("done", "failed"):
            assert rounds[-1]["status"] == "done", rounds[-1]
            break
        assert time.monotonic() < deadline, rounds
        time.sleep(0.3)
    return rid, httpx2.get(f"{server.url}/v1/reviews/{rid}", headers=lead, timeout=10).json()["review"]


def test_a_blind_panels_evaluator_reads_masked_pages_and_follows_a_round_2_citation_in_a_real_browser(server, tmp_path):
    rid, review = _blind_review_with_round_2(server)
    cid, index, citation = next(
        (f["criterion_id"], i, c)
        for f in review["findings"]
        for i, c in enumerate(f["citations"])
        if c["verified"] and c["document"] == "coral-answers.pdf"
    )
    shots = Path(os.environ.get("REVIEWER_TEST_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    answer_page = f"/web/reviews/{rid}/rounds/2/pages/{citation['document_page']}"

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            evaluator = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
            page = evaluator.new_page()
            sign_in(page, server.url, ANA_KEY)
            page.goto(f"{server.url}/web/reviews/{rid}")
            assert "coral" not in page.content().casefold()
            assert page.get_by_role("heading", name=re.compile("Round 2: Vendor")).is_visible()
            page.screenshot(path=str(shots / "blind-review.png"), full_page=True)

            page.locator(f'#c-{cid} a[href="{answer_page}#q-{cid}-{index}"]').click()
            page.wait_for_url(f"**{answer_page}#q-{cid}-{index}")
            mark = page.locator(f"#q-{cid}-{index} + mark")
            marked = mark.inner_text()
            assert mark.is_visible() and len(marked) > 20 and citation["quote"].startswith(marked)
            assert "coral" not in page.content().casefold()
            picture = page.get_by_role("img", name=re.compile("round 2's answer.*names blacked out"))
            assert picture.is_visible() and picture.evaluate("img => img.naturalWidth") > 0
            page.screenshot(path=str(shots / "blind-answer-page.png"), full_page=True)

            page.goto(f"{server.url}/web/reviews/{rid}/rounds/2/pages/1")
            assert page.locator(".page-text").inner_text().startswith("[VENDOR]")
            page.screenshot(path=str(shots / "blind-answer-page-1.png"), full_page=False)

            page.goto(f"{server.url}/web/reviews/{rid}/pages/1")
            assert page.locator(".page-text").inner_text().startswith("[VENDOR]")
            assert "coral" not in page.content().casefold()
            picture = page.get_by_role("img", name=re.compile("Page 1 of the proposal.*names blacked out"))
            assert picture.is_visible() and picture.evaluate("img => img.naturalWidth") > 0
            page.screenshot(path=str(shots / "blind-proposal-page.png"), full_page=False)
            for path in (f"/web/reviews/{rid}", answer_page, f"/web/reviews/{rid}/pages/1"):
                page.goto(f"{server.url}{path}")
                assert page.evaluate(UNLABELLED_CONTROLS) == [] and page.evaluate(IMAGES_WITHOUT_ALT) == [], path
            evaluator.close()

            lead = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
            page = lead.new_page()
            sign_in(page, server.url, LEAD_KEY)
            page.goto(f"{server.url}{answer_page}")
            assert "coral-answers.pdf" in page.content()
            page.goto(f"{server.url}/web/reviews/{rid}/pages/1")
            assert page.locator(".page-text").inner_text().startswith("CORAL DATA SERVICES")
            page.screenshot(path=str(shots / "lead-proposal-page.png"), full_page=False)
            lead.close()
        finally:
            browser.close()
    assert (shots / "blind-answer-page.png").stat().st_size > 0
