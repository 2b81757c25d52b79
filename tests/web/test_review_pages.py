"""The review's pages through the TestClient: the review beside its proposal, a page of the proposal with
the quotes marked at their offsets (and its picture, PNG), the lead's consensus form, the audit trail."""

import html
import io
import re
import struct

import docx
import pytest
from fastapi.testclient import TestClient

from reviewer.documents import read_document
from reviewer.queue.proposal import ProposalPages
from reviewer.server import create_server
from reviewer.store import BatchItem
from reviewer.web.review_views import AUDIT_PAGE_SIZE
from tests.pdfs import text_pdf
from tests.web.test_routes import KEYS, SAMPLE, csrf_of, make_settings, reviewed, sign_in

AUTH = {"Authorization": f"Bearer {KEYS['ana']}"}
REASON = "The panel agreed <i>after</i> the call."
MARKUP_LINE = "Our terms: <script>alert('x')</script> & <b>all data stays with the Client</b> at all times."


@pytest.fixture
def client(tmp_path):
    with TestClient(create_server(make_settings(tmp_path))) as c:
        yield c


def upload(client, data: bytes, name: str, content_type: str = "application/pdf") -> dict:
    response = client.post(
        "/v1/reviews?wait=true", headers=AUTH, files={"file": (name, data, content_type)}, data={"backend": "offline"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def marked(page_html: str, quote_id: str) -> str:
    """The text of the page that carries the quote's mark (its pieces joined), as a reader sees it."""
    pieces = re.findall(r'<mark data-quotes="([^"]*)">(.*?)</mark>', page_html, flags=re.S)
    return "".join(html.unescape(text) for ids, text in pieces if quote_id in ids.split())


def page_text(page_html: str) -> str:
    body = re.search(r'<div class="page-text">(.*?)</div>', page_html, flags=re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def test_every_review_page_answers_401_without_a_session(client):
    job = reviewed(client)
    for path in ("pages/1", "pages/1/image.png", "audit"):
        response = client.get(f"/web/reviews/{job['id']}/{path}")
        assert response.status_code == 401 and 'name="key"' in response.text, path
    refused = client.post(f"/web/reviews/{job['id']}/consensus", data={"criterion_id": "x", "grade": "met"})
    assert refused.status_code == 401


def test_unknown_reviews_and_pages_are_404_pages(client):
    job = reviewed(client)
    sign_in(client)
    for path in ("/web/reviews/nope/pages/1", "/web/reviews/nope/pages/1/image.png", "/web/reviews/nope/audit"):
        response = client.get(path)
        assert response.status_code == 404 and "There is no review with the id nope" in response.text, path
    pages = job["review"]["document"]["pages"]
    for number in ("0", str(pages + 1), "abc", "-1", "99999999999"):
        for suffix in ("", "/image.png"):
            response = client.get(f"/web/reviews/{job['id']}/pages/{number}{suffix}")
            assert response.status_code == 404 and "text/html" in response.headers["content-type"], (number, suffix)


def test_each_verified_citation_links_to_its_page_where_the_quote_is_marked_at_its_offsets(client):
    job = reviewed(client)
    sign_in(client)
    review_html = client.get(f"/web/reviews/{job['id']}").text
    document = read_document(SAMPLE, "coral.pdf")
    checked = 0
    for finding in job["review"]["findings"]:
        cid = finding["criterion_id"]
        for index, citation in enumerate(finding["citations"]):
            if not citation["verified"]:
                continue
            link = f"/web/reviews/{job['id']}/pages/{citation['page']}#q-{cid}-{index}"
            assert f'href="{link}"' in review_html
            page = client.get(link.split("#")[0])
            assert page.status_code == 200 and f'id="q-{cid}-{index}"' in page.text
            text = document.pages[citation["page"] - 1].text
            assert marked(page.text, f"q-{cid}-{index}") == text[citation["start"] : citation["end"]]
            assert page_text(page.text) == text  # the marks cut the text; they neither add nor drop any of it
            checked += 1
    assert checked >= 5


def test_an_unverified_quote_is_labelled_and_never_marked(client):
    job = reviewed(client)
    cid = job["review"]["findings"][0]["criterion_id"]
    invented = "The supplier guarantees unlimited free support forever and ever."
    added = client.post(
        f"/v1/reviews/{job['id']}/assessments",
        headers=AUTH,
        json={
            "criterion_id": cid,
            "grade": job["review"]["findings"][0]["grade"],
            "citations": [{"page": 1, "quote": invented}],
        },
    )
    assert added.status_code == 201 and added.json()["citations"][0]["verified"] is False
    sign_in(client)
    review_html = client.get(f"/web/reviews/{job['id']}").text
    section = review_html[review_html.index(f'id="c-{cid}"') :]
    item = section[: section.index(invented)]
    assert "unverified: not found in the document" in item[item.rindex("<li") :]
    page = client.get(f"/web/reviews/{job['id']}/pages/1").text
    assert invented in page and "unverified: not found in the document" in page
    assert invented not in "".join(re.findall(r"<mark[^>]*>(.*?)</mark>", page, flags=re.S))


def test_markup_in_a_quote_and_in_the_page_text_is_shown_as_text(client):
    pdf = text_pdf([f"Proposal of Example Ltd.\n{MARKUP_LINE}\nThe end of the proposal."])
    job = upload(client, pdf, "markup.pdf")
    cid = job["review"]["findings"][0]["criterion_id"]
    quote = "<script>alert('x')</script> & <b>all data stays with the Client</b>"
    added = client.post(
        f"/v1/reviews/{job['id']}/assessments",
        headers=AUTH,
        json={"criterion_id": cid, "grade": "met", "reason": "quoted", "citations": [{"page": 1, "quote": quote}]},
    )
    assert added.status_code == 201 and added.json()["citations"][0]["verified"] is True
    sign_in(client)
    review_html = client.get(f"/web/reviews/{job['id']}").text
    page = client.get(f"/web/reviews/{job['id']}/pages/1").text
    for shown in (review_html, page):
        assert "<script>" not in shown and "<b>" not in shown
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;" in shown
    index = len(next(f for f in job["review"]["findings"] if f["criterion_id"] == cid)["citations"])
    assert marked(page, f"q-{cid}-{index}") == quote  # the evaluator's quote, after the grader's


def test_the_page_picture_is_a_bounded_png_and_a_page_that_does_not_render_shows_its_text(client):
    job = reviewed(client)
    sign_in(client)
    page = client.get(f"/web/reviews/{job['id']}/pages/1")
    assert (
        f'src="/web/reviews/{job["id"]}/pages/1/image.png"' in page.text and 'alt="Page 1 of the proposal' in page.text
    )
    image = client.get(f"/web/reviews/{job['id']}/pages/1/image.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n") and image.content[12:16] == b"IHDR"
    width, height = struct.unpack(">II", image.content[16:24])
    assert 500 <= width <= 1000 and height <= 2000
    services = client.app.state.services
    client.app.state.web_proposal_pages = ProposalPages(services.files, services.settings, render=lambda *_: None)
    text_only = client.get(f"/web/reviews/{job['id']}/pages/2")
    assert text_only.status_code == 200 and "<img" not in text_only.text and "<mark" in text_only.text
    assert client.get(f"/web/reviews/{job['id']}/pages/2/image.png").status_code == 404


def test_a_word_proposal_shows_its_pages_as_text_only(client):
    document = docx.Document()
    document.add_paragraph("Proposal of Wordsmith Ltd. All Client data remains the property of the Client.")
    buffer = io.BytesIO()
    document.save(buffer)
    job = upload(
        client,
        buffer.getvalue(),
        "proposal.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    sign_in(client)
    page = client.get(f"/web/reviews/{job['id']}/pages/1")
    assert page.status_code == 200 and "<img" not in page.text and "Wordsmith Ltd." in page_text(page.text)
    assert client.get(f"/web/reviews/{job['id']}/pages/1/image.png").status_code == 404


def test_only_the_lead_sees_and_may_use_the_consensus_form(client):
    job = reviewed(client)
    first = job["review"]["findings"][0]
    cid, other = first["criterion_id"], "missing" if first["grade"] != "missing" else "met"
    url = f"/web/reviews/{job['id']}/consensus"
    sign_in(client, "ana")
    page = client.get(f"/web/reviews/{job['id']}")
    assert "Set consensus" not in page.text
    refused = client.post(url, data={"criterion_id": cid, "grade": other, "reason": "r", "csrf": csrf_of(page.text)})
    assert refused.status_code == 403 and "only an evaluation lead" in refused.text
    client.cookies.clear()
    sign_in(client, "lead")
    page = client.get(f"/web/reviews/{job['id']}")
    assert f'for="creason-{cid}"' in page.text and "Set consensus" in page.text
    assert client.post(url, data={"criterion_id": cid, "grade": other, "reason": "r"}).status_code == 403  # no CSRF
    empty = client.post(url, data={"criterion_id": cid, "grade": other, "reason": "", "csrf": csrf_of(page.text)})
    assert empty.status_code == 422 and f'id="cerr-{cid}"' in empty.text
    done = client.post(
        url,
        data={
            "criterion_id": cid,
            "grade": other,
            "reason": "The panel agreed <i>after</i> the call.",
            "csrf": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith(f"/web/reviews/{job['id']}?agreed=")
    after = client.get(done.headers["location"]).text
    section = after[after.index(f'id="c-{cid}"') :]
    assert "The consensus was recorded" in section and "from the lead&#39;s consensus" in section
    assert "The panel agreed &lt;i&gt;after&lt;/i&gt; the call." in section
    final = client.get(f"/v1/reviews/{job['id']}", headers={"Authorization": f"Bearer {KEYS['lead']}"}).json()
    finding = next(f for f in final["review"]["findings"] if f["criterion_id"] == cid)
    assert finding["final_grade"] == other and finding["final_source"] == "consensus"


def test_the_audit_page_lists_events_oldest_first_with_actor_and_before_and_after(client):
    job = reviewed(client)
    first = job["review"]["findings"][0]
    cid, other = first["criterion_id"], "missing" if first["grade"] != "missing" else "met"
    sign_in(client)
    page = client.get(f"/web/reviews/{job['id']}")
    client.post(
        f"/web/reviews/{job['id']}/assessments",
        data={"criterion_id": cid, "grade": other, "reason": "page 2 says <no>", "csrf": csrf_of(page.text)},
    )
    audit = client.get(f"/web/reviews/{job['id']}/audit")
    assert audit.status_code == 200
    rows = re.findall(r"<tr>\s*<td class=\"num\">(\d+)</td>(.*?)</tr>", audit.text, flags=re.S)
    actions = [re.findall(r"<td>(.*?)</td>", body, flags=re.S)[1] for _, body in rows]
    assert actions == ["Review created", "Graded by the AI", "Assessment recorded"]
    last = rows[-1][1]
    assert ">ana<" in last and f">{cid}<" in last
    ai_word, other_word = (w.replace("_", " ").capitalize() for w in (first["grade"], other))
    assert f"<del>{ai_word}</del> → <ins>{other_word}</ins>" in last
    assert "page 2 says &lt;no&gt;" in last and "note" not in last  # no note given: nothing to show


def test_the_audit_page_is_paginated(client):
    job = reviewed(client)
    store = client.app.state.services.store
    for n in range(AUDIT_PAGE_SIZE + 3):
        store.record_event(job["id"], "cli", "report_exported", after={"format": f"f{n}"})
    sign_in(client)
    first = client.get(f"/web/reviews/{job['id']}/audit").text
    second = client.get(f"/web/reviews/{job['id']}/audit?page=2").text
    assert "Page 1 of 2" in first and f'href="/web/reviews/{job["id"]}/audit?page=2"' in first
    assert "<ins>f0</ins>" in first and "<ins>f0</ins>" not in second
    assert "<ins>f52</ins>" in second and f'<td class="num">{AUDIT_PAGE_SIZE + 1}</td>' in second
    assert "Page 2 of 2" in client.get(f"/web/reviews/{job['id']}/audit?page=9").text  # past the end: the last


def test_a_blind_panels_evaluator_sees_labels_on_the_pages_and_in_the_audit(client):
    job = reviewed(client, vendor_name="Secret Vendor Inc")
    store = client.app.state.services.store
    store.create_batch("default", True, [BatchItem(file_name="coral.pdf", job_id=job["id"])], blind=True)
    sign_in(client)
    for path in ("", "/pages/2", "/audit"):
        shown = client.get(f"/web/reviews/{job['id']}{path}").text
        assert "Secret Vendor Inc" not in shown and "coral.pdf" not in shown, path
        assert f"Vendor {job['id'][:6]}" in shown, path


def test_a_criterion_the_lead_settles_as_met_no_longer_asks_the_vendor_and_a_downgraded_one_does(client):
    job = reviewed(client)
    findings = job["review"]["findings"]
    asked = next(f for f in findings if f["grade"] != "met" and f["clarification_question"])
    met = next(f for f in findings if f["grade"] == "met")
    lead = {"Authorization": f"Bearer {KEYS['lead']}"}
    for finding, grade in ((asked, "met"), (met, "partial")):
        url = f"/v1/reviews/{job['id']}/consensus/{finding['criterion_id']}"
        assert client.put(url, headers=lead, json={"grade": grade, "reason": "agreed"}).status_code == 200
    sign_in(client, "lead")
    text = client.get(f"/web/reviews/{job['id']}").text

    def section(criterion_id: str) -> str:
        start = text.index(f'id="c-{criterion_id}"')
        return text[start : text.find('id="c-', start + 1)]

    assert "Question for the vendor" not in section(asked["criterion_id"])
    downgraded = section(met["criterion_id"])
    assert "Question for the vendor" in downgraded and f"addresses: {html.escape(met['title'])}" in downgraded
