"""The review's pages in a real headless browser (Debian's Chromium driven by Playwright) against the real
server process, with JavaScript off (every form posts and redirects): follow a citation to its page where
the quote is marked beside the page's picture, record an assessment with a reason, see the final grade and
the audit event; the lead sets consensus. Then, with JavaScript on to measure: every control has a label,
every image its text, nothing scrolls sideways at a phone's width. Screenshots of each page go to the
test's tmp directory, or to $REVIEWER_TEST_SCREENSHOTS when set."""

import os
import re
from pathlib import Path

import pytest

from tests.test_server_process import Server
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
