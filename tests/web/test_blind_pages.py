"""A blind panel's evaluator never reads the vendor's name: not in the review, the pages' text (masked as
blind model input masks it, with the quotes still marked on the right words), the pages' pictures (names
blacked out, or no picture and the reason), the audit trail, the reports or the API. The lead reads the
original. A clarification round's quote links to its answer's own page, marked there."""

import html
import io
import re
import zipfile

import pytest
from fastapi.testclient import TestClient

from reviewer.documents import read_document
from reviewer.masking import BLIND, mask_document
from reviewer.server import create_server
from reviewer.store import BatchItem
from tests.pdfs import text_pdf, with_image_only_pages
from tests.test_page_image import box_of, dark_share, pixels
from tests.test_rounds import ANSWER, PROPOSAL, RETENTION, AnswerAwareBackend, _wait_for_round
from tests.web.test_review_pages import marked, page_text
from tests.web.test_routes import KEYS, SAMPLE, make_settings, reviewed, sign_in

VENDOR = "Coral Data Services"
NAMED_QUOTE = 'Coral Data Services ("Supplier") shall design'


def auth(who: str) -> dict:
    return {"Authorization": f"Bearer {KEYS[who]}"}


def readable(response) -> str:
    """The response as text to search: a zip (XLSX) by its members' contents."""
    if response.content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(response.content)) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return response.content.decode("utf-8", "replace")


@pytest.fixture
def blind(tmp_path):
    """A reviewed sample on a blind panel, with an evaluator's quote that holds the vendor's name."""
    with TestClient(create_server(make_settings(tmp_path))) as client:
        job = reviewed(client, vendor_name=VENDOR)
        first = job["review"]["findings"][0]
        added = client.post(
            f"/v1/reviews/{job['id']}/assessments",
            headers=auth("ana"),
            json={"criterion_id": first["criterion_id"], "grade": first["grade"], "citations": [
                {"page": 1, "quote": NAMED_QUOTE}]},
        )  # fmt: skip
        assert added.status_code == 201 and added.json()["citations"][0]["verified"]
        batch = client.app.state.services.store.create_batch(
            "default", True, [BatchItem(file_name="coral.pdf", job_id=job["id"])], blind=True
        )
        yield client, job, batch.id


def paths_of(rid: str, batch_id: str) -> list[str]:
    web = [f"/web/reviews/{rid}", *(f"/web/reviews/{rid}/pages/{n}" for n in (1, 2, 3)), f"/web/reviews/{rid}/audit"]
    web += [f"/web/batches/{batch_id}", *(f"/web/batches/{batch_id}/comparison.{f}" for f in ("csv", "html", "md"))]
    api = [f"/v1/reviews/{rid}", f"/v1/reviews/{rid}/report", f"/v1/reviews/{rid}/report?format=html"]
    api += [f"/v1/reviews/{rid}/rounds", f"/v1/reviews/{rid}/rounds/1", f"/v1/reviews/{rid}/audit", "/v1/reviews"]
    api += [f"/v1/reviews/{rid}/questions?format={f}" for f in ("md", "docx")]
    api += [f"/v1/batches/{batch_id}", *(f"/v1/batches/{batch_id}/comparison.{f}" for f in ("csv", "xlsx", "md"))]
    return web + api + ["/web/batches/" + batch_id + "/comparison.xlsx"]


def test_a_blind_panels_evaluator_gets_no_response_that_names_the_vendor(blind):
    client, job, batch_id = blind
    rid = job["id"]
    sign_in(client, "ana")
    for path in paths_of(rid, batch_id):
        response = client.get(path, headers=auth("ana") if path.startswith("/v1") else {})
        assert response.status_code == 200, (path, response.status_code)
        body = readable(response).casefold()
        assert "coral" not in body and "coral.pdf" not in body, path
    page = client.get(f"/web/reviews/{rid}/pages/1").text
    assert page_text(page).startswith("[VENDOR] - RESPONSE TO RFP NO.")


def test_the_lead_of_a_blind_panel_reads_the_original(blind):
    client, job, _ = blind
    rid = job["id"]
    sign_in(client, "lead")
    page = client.get(f"/web/reviews/{rid}/pages/1").text
    assert page_text(page) == read_document(SAMPLE, "coral.pdf").pages[0].text
    assert NAMED_QUOTE in html.unescape(client.get(f"/web/reviews/{rid}").text)
    assert NAMED_QUOTE in client.get(f"/v1/reviews/{rid}", headers=auth("lead")).text.replace('\\"', '"')
    assert "coral.pdf" in client.get(f"/v1/reviews/{rid}/audit", headers=auth("lead")).text


def test_on_the_masked_text_every_quote_is_still_marked_on_its_own_words(blind):
    client, job, _ = blind
    rid = job["id"]
    document = read_document(SAMPLE, "coral.pdf")
    masked = mask_document(document, BLIND, vendor_names=[VENDOR])
    sign_in(client, "ana")
    seen = client.get(f"/v1/reviews/{rid}", headers=auth("ana")).json()["review"]
    checked, named = 0, False
    for finding in seen["findings"]:
        cid = finding["criterion_id"]
        for index, citation in enumerate(finding["citations"]):
            if not citation["verified"]:
                continue
            page = client.get(f"/web/reviews/{rid}/pages/{citation['page']}").text
            text = masked.document.pages[citation["page"] - 1].text
            assert page_text(page) == text  # the masked page, whole
            assert marked(page, f"q-{cid}-{index}") == text[citation["start"] : citation["end"]] == citation["quote"]
            named = named or citation["quote"] == '[VENDOR] ("Supplier") shall design'
            checked += 1
    assert checked >= 5 and named  # the evaluator's quote of the name is marked on the placeholder


def test_a_blind_panels_picture_has_the_name_blacked_out_and_the_leads_does_not(blind):
    client, job, _ = blind
    rid = job["id"]
    url = f"/web/reviews/{rid}/pages/1/image.png"
    sign_in(client, "ana")
    masked = client.get(url)
    assert masked.status_code == 200 and masked.headers["content-type"] == "image/png"
    assert "names blacked out" in client.get(f"/web/reviews/{rid}/pages/1").text
    client.cookies.clear()
    sign_in(client, "lead")
    plain = client.get(url).content
    width = pixels(plain)[0]
    for name in ("CORAL DATA SERVICES", "Coral Data Services"):
        box = box_of(SAMPLE, 1, name, width)
        assert dark_share(masked.content, box) == 1.0 and dark_share(plain, box) < 0.5, name


def test_a_page_that_cannot_be_masked_shows_no_picture_to_a_blind_panels_evaluator_and_says_why(tmp_path):
    pdf = with_image_only_pages(text_pdf(["Offer of Acme Robotics Ltd.", "Acme Robotics keeps data in the EU."]), [1])
    with TestClient(create_server(make_settings(tmp_path))) as client:
        response = client.post(
            "/v1/reviews?wait=true",
            headers=auth("ana"),
            files={"file": ("acme.pdf", pdf, "application/pdf")},
            data={"backend": "offline", "vendor_name": "Acme Robotics"},
        )
        rid = response.json()["id"]
        client.app.state.services.store.create_batch(
            "default", True, [BatchItem(file_name="acme.pdf", job_id=rid)], blind=True
        )
        sign_in(client, "ana")
        page = client.get(f"/web/reviews/{rid}/pages/1").text
        picture = client.get(f"/web/reviews/{rid}/pages/1/image.png")
        second = client.get(f"/web/reviews/{rid}/pages/2")
        client.cookies.clear()
        sign_in(client, "lead")
        leads = client.get(f"/web/reviews/{rid}/pages/1/image.png")
    assert "<img" not in page and "not shown on a blind panel: pictures cover much of the page" in page
    assert picture.status_code == 404 and "image/png" not in picture.headers["content-type"]
    assert "not shown on a blind panel" in picture.text
    assert second.status_code == 200 and "acme" not in second.text.casefold() and "<img" in second.text
    assert leads.status_code == 200 and leads.content.startswith(b"\x89PNG")


def _review_with_round_2(client, who: str = "lead", blind: bool = False) -> str:
    created = client.post(
        "/v1/batches",
        headers=auth(who),
        files=[("files", ("acme.pdf", PROPOSAL, "application/pdf"))],
        data={"blind": "true" if blind else "false"},
    ).json()
    rid = created["items"][0]["job_id"]
    _wait_for_round(client, rid, 1)
    files = {"file": ("acme-answers.pdf", ANSWER, "application/pdf")}
    assert client.post(f"/v1/reviews/{rid}/rounds", headers=auth(who), files=files).status_code == 202
    assert _wait_for_round(client, rid, 2)["status"] == "done"
    return rid


@pytest.fixture
def rounds_client(tmp_path):
    app = create_server(make_settings(tmp_path), backend_factory=lambda name, s: AnswerAwareBackend())
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("who", ["lead", "ana"])
def test_a_quote_of_a_rounds_answer_links_to_the_answers_own_page_and_is_marked_there(rounds_client, who):
    client = rounds_client
    rid = _review_with_round_2(client, blind=who == "ana")
    sign_in(client, who)
    review = client.get(f"/v1/reviews/{rid}", headers=auth(who)).json()["review"]
    first = review["findings"][0]
    index, citation = next((i, c) for i, c in enumerate(first["citations"]) if "thirty days" in c["quote"])
    assert citation["page"] == 4 and citation["document_page"] == 2  # combined page 4 is the answer's page 2
    link = f"/web/reviews/{rid}/rounds/2/pages/2#q-{first['criterion_id']}-{index}"
    review_html = client.get(f"/web/reviews/{rid}").text
    assert f'href="{link}"' in review_html
    page = client.get(link.split("#")[0])
    assert page.status_code == 200 and "answer of round 2, page 2 of 2" in page.text
    answer = read_document(ANSWER, "acme-answers.pdf").pages[1].text
    assert marked(page.text, f"q-{first['criterion_id']}-{index}") == answer[citation["start"] : citation["end"]]
    assert answer[citation["start"] : citation["end"]].startswith(RETENTION[:-1])
    assert client.get(f"/web/reviews/{rid}/rounds/2/pages/2/image.png").content.startswith(b"\x89PNG")
    proposal_quote = next(i for i, c in enumerate(review["findings"][1]["citations"]) if c["verified"])
    cid = review["findings"][1]["criterion_id"]
    assert f'href="/web/reviews/{rid}/pages/1#q-{cid}-{proposal_quote}"' in review_html  # the proposal's own page
    assert marked(client.get(f"/web/reviews/{rid}/pages/1").text, f"q-{cid}-{proposal_quote}")
    for missing in ("/rounds/2/pages/3", "/rounds/3/pages/1", "/rounds/0/pages/1", "/rounds/x/pages/1"):
        assert client.get(f"/web/reviews/{rid}{missing}").status_code == 404, missing
    if who == "ana":
        for path in (f"/web/reviews/{rid}", link.split("#")[0], f"/web/reviews/{rid}/pages/1"):
            assert "acme" not in client.get(path).text.casefold(), path
    else:
        assert "acme-answers.pdf" in page.text


def test_pages_of_a_file_with_no_picture_stay_text_only_on_a_blind_panel(blind):
    client, job, _ = blind
    rid = job["id"]
    services = client.app.state.services
    from reviewer.queue.proposal import ProposalPages

    client.app.state.web_proposal_pages = ProposalPages(services.files, services.settings, render=lambda *_: None)
    sign_in(client, "ana")
    page = client.get(f"/web/reviews/{rid}/pages/1")
    assert page.status_code == 200 and "<img" not in page.text and "<mark" in page.text
    assert "coral" not in page.text.casefold()
    assert client.get(f"/web/reviews/{rid}/pages/1/image.png").status_code == 404
    assert re.search(r"\[VENDOR\]", page_text(page.text))


def test_a_blind_panels_comparison_masks_the_vendors_words_for_evaluators(tmp_path):
    """Labels alone ("Vendor A") leave the name in the quotes and rationales of the comparison when the
    vendor's name is spelt otherwise than the label replaces; the masking of the review masks them there too."""
    pdf = text_pdf(
        [
            "Proposal of Brightwater Analytics Ltd.",
            "Red flag test: Brightwater keeps all rights to the model weights and the Client data.\n"
            "Brightwater may reuse Client data to train other models.\n"
            "Contact Jane Porter at jane.porter@brightwater.example or +44 20 7946 0018.",
        ]
    )
    with TestClient(create_server(make_settings(tmp_path))) as client:
        created = client.post(
            "/v1/batches",
            headers=auth("lead"),
            files=[("files", ("bw.pdf", pdf, "application/pdf"))],
            data={"blind": "true", "backend": "offline"},
        ).json()
        _wait_for_round(client, created["items"][0]["job_id"], 1)
        bid = created["id"]
        sign_in(client, "ana")
        shown = {
            path: readable(client.get(path, headers=auth("ana")))
            for path in (
                f"/v1/batches/{bid}",
                *(f"/v1/batches/{bid}/comparison.{f}" for f in ("csv", "xlsx", "html", "md")),
                f"/web/batches/{bid}",
                *(f"/web/batches/{bid}/comparison.{f}" for f in ("csv", "xlsx", "html", "md")),
            )
        }
        leads = client.get(f"/v1/batches/{bid}", headers=auth("lead")).text
    for path, body in shown.items():
        assert "brightwater" not in body.casefold(), path
    assert "[VENDOR] may reuse Client data to train other models" in shown[f"/v1/batches/{bid}"]
    assert "Brightwater may reuse Client data to train other models" in leads
