"""The vendor's clarification questions downloaded from the web pages (Markdown, Word, PDF) through the
TestClient: linked from the comparison (one set per vendor) and the review page with labels that name the
vendor and the format, served by the core's export with the signed-in evaluator in the audit trail, a blind
panel's evaluator getting the vendor's label in the document and its file name, 401 / 404 / 409 as pages."""

import html
import io
import re
import time
import zipfile

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from reviewer.server import create_server
from tests.store.support import new_job
from tests.web.test_routes import KEYS, SAMPLES, make_settings, reviewed, sign_in

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FILES = ("coral_data.pdf", "helix_systems.pdf")


@pytest.fixture
def client(tmp_path):
    with TestClient(create_server(make_settings(tmp_path))) as c:
        yield c


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[who]}"}


def finished_batch(client, *, blind: bool = False) -> dict:
    """A batch of the two samples on the offline grader, created by the lead, once every review is done."""
    files = [("files", (name, (SAMPLES / name).read_bytes(), "application/pdf")) for name in FILES]
    data = {"backend": "offline", **({"blind": "true"} if blind else {})}
    batch = client.post("/v1/batches", headers=bearer("lead"), files=files, data=data).json()
    deadline = time.monotonic() + 60
    while batch["status"] != "done":
        assert time.monotonic() < deadline, batch
        time.sleep(0.1)
        batch = client.get(f"/v1/batches/{batch['id']}", headers=bearer("lead")).json()
    return batch


def exports(client, review_id: str) -> list[tuple[str, dict]]:
    events = client.get(f"/v1/reviews/{review_id}/audit", headers=bearer("lead")).json()["items"]
    return [(e["actor"], e["after"]) for e in events if e["action"] == "questions_exported"]


def document_text(fmt: str, content: bytes) -> str:
    if fmt == "md":
        return content.decode()
    if fmt == "docx":
        return zipfile.ZipFile(io.BytesIO(content)).read("word/document.xml").decode()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def everything_in(fmt: str, content: bytes) -> str:
    """All the text a file carries, its metadata included: every part of a .docx, a PDF's text and info."""
    if fmt == "docx":
        archive = zipfile.ZipFile(io.BytesIO(content))
        return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    if fmt == "pdf":
        reader = PdfReader(io.BytesIO(content))
        return document_text(fmt, content) + "\n" + " ".join(str(v) for v in (reader.metadata or {}).values())
    return content.decode()


def test_the_comparison_links_each_vendors_questions_in_three_formats_with_labels_naming_vendor_and_format(client):
    batch = finished_batch(client)
    sign_in(client)
    page = client.get(f"/web/batches/{batch['id']}").text
    ids = {item["file_name"]: item["job_id"] for item in batch["items"]}
    for vendor, file_name in (("Coral Data", "coral_data.pdf"), ("Helix Systems", "helix_systems.pdf")):
        for fmt, word in (("md", "Markdown"), ("docx", "Word"), ("pdf", "PDF")):
            href = f"/web/reviews/{ids[file_name]}/questions.{fmt}"
            link = f'<a href="{href}" download aria-label="Questions for {vendor} ({word})">{word}</a>'
            assert link in page, (vendor, fmt)
    shown = re.findall(r'href="(/web/reviews/[0-9a-f]+/questions\.docx)"', page)
    word = client.get(shown[0])
    assert word.status_code == 200 and word.headers["content-type"] == DOCX_TYPE
    assert "<w:t" in document_text("docx", word.content)


def test_the_review_page_links_its_questions_and_each_download_is_the_cores_document_audited_under_the_evaluator(
    client,
):
    rid = reviewed(client, vendor_name="Coral Data")["id"]
    sign_in(client)
    page = client.get(f"/web/reviews/{rid}").text
    for fmt, word in (("md", "Markdown"), ("docx", "Word"), ("pdf", "PDF")):
        assert (
            f'href="/web/reviews/{rid}/questions.{fmt}" download aria-label="Questions for Coral Data ({word})"' in page
        )

    md = client.get(f"/web/reviews/{rid}/questions.md")
    assert md.status_code == 200 and md.headers["content-type"] == "text/markdown; charset=utf-8"
    assert md.headers["content-disposition"] == 'attachment; filename="questions-Coral-Data-round-1.md"'
    api = client.get(f"/v1/reviews/{rid}/questions", headers=bearer("ana"))
    assert md.content == api.content  # the same document as the API's: the core made both
    assert md.text.startswith("# Clarification questions: Coral Data\n")

    word = client.get(f"/web/reviews/{rid}/questions.docx")
    assert word.status_code == 200 and word.headers["content-type"] == DOCX_TYPE
    assert word.headers["content-disposition"] == 'attachment; filename="questions-Coral-Data-round-1.docx"'
    assert "Clarification questions: Coral Data" in document_text("docx", word.content)

    client.cookies.clear()
    sign_in(client, "lead")
    pdf = client.get(f"/web/reviews/{rid}/questions.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="questions-Coral-Data-round-1.pdf"'
    assert "Please answer each question" in document_text("pdf", pdf.content)
    assert pdf.headers["x-content-type-options"] == "nosniff" and pdf.headers["cache-control"] == "no-store"

    assert exports(client, rid) == [
        ("ana", {"format": "md", "round": 1}),
        ("ana", {"format": "md", "round": 1}),  # the API's download, by the key's evaluator
        ("ana", {"format": "docx", "round": 1}),
        ("lead", {"format": "pdf", "round": 1}),
    ]


def test_a_blind_panels_evaluator_downloads_questions_naming_the_vendor_by_its_label_and_the_lead_by_name(client):
    batch = finished_batch(client, blind=True)
    record = client.app.state.services.store.get_batch(batch["id"])  # the API names no file on a blind panel
    rid = next(item.job_id for item in record.items if item.file_name == "coral_data.pdf")
    label = f"Vendor {rid[:6]}"
    sign_in(client)  # ana: an evaluator, not the lead
    page = client.get(f"/web/reviews/{rid}").text
    assert f'aria-label="Questions for {label} (Word)"' in page and "Coral" not in page
    for fmt in ("md", "docx", "pdf"):
        seen = client.get(f"/web/reviews/{rid}/questions.{fmt}")
        assert seen.status_code == 200, fmt
        assert seen.headers["content-disposition"] == f'attachment; filename="questions-Vendor-{rid[:6]}-round-1.{fmt}"'
        text = document_text(fmt, seen.content)
        assert f"Clarification questions: {label}" in html.unescape(text), fmt
        assert "coral" not in text.lower() and "coral" not in everything_in(fmt, seen.content).lower(), fmt
    assert exports(client, rid) == [("ana", {"format": fmt, "round": 1}) for fmt in ("md", "docx", "pdf")]

    client.cookies.clear()
    sign_in(client, "lead")  # the key to the names stays with the lead
    led = client.get(f"/web/reviews/{rid}/questions.md")
    assert led.text.startswith("# Clarification questions: Coral Data\n")
    assert led.headers["content-disposition"] == 'attachment; filename="questions-Coral-Data-round-1.md"'


def test_questions_need_a_session_and_are_404_for_unknown_reviews_or_formats_and_409_until_done(client):
    rid = reviewed(client)["id"]
    refused = client.get(f"/web/reviews/{rid}/questions.md")
    assert refused.status_code == 401 and 'name="key"' in refused.text
    assert exports(client, rid) == []

    sign_in(client)
    missing = client.get("/web/reviews/0123456789abcdef/questions.docx")
    assert missing.status_code == 404 and "There is no review with the id 0123456789abcdef" in missing.text
    odd = client.get(f"/web/reviews/{rid}/questions.rtf")
    assert odd.status_code == 404 and "Markdown (.md), Word (.docx) or PDF (.pdf)" in odd.text

    store = client.app.state.services.store
    queued, _ = store.create_or_get(new_job(7, backend="scripted"))  # no file behind it: it never gets done
    waiting = client.get(f"/web/reviews/{queued.id}/questions.pdf")
    assert waiting.status_code == 409 and "text/html" in waiting.headers["content-type"]
    assert "Not ready yet" in waiting.text and "its questions can be downloaded once it is done" in waiting.text
    assert "Traceback" not in waiting.text and "content-disposition" not in waiting.headers
    assert "questions.md" not in client.get(f"/web/reviews/{queued.id}").text  # no links before it is done
    assert exports(client, queued.id) == []


def test_a_no_auth_server_records_the_local_user_as_the_exporter(tmp_path):
    with TestClient(create_server(make_settings(tmp_path, keys=False), allow_anonymous=True)) as c:
        rid = reviewed(c)["id"]
        assert c.get(f"/web/reviews/{rid}/questions.md").status_code == 200
        events = c.get(f"/v1/reviews/{rid}/audit").json()["items"]
        assert [(e["actor"], e["after"]) for e in events if e["action"] == "questions_exported"] == [
            ("local", {"format": "md", "round": 1})
        ]
