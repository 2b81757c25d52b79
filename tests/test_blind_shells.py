"""Blind model input through every way in: `reviewer review --blind`, `reviewer eval --blind`, the job store
and the API's `blind` form field."""

import json
import time
from pathlib import Path

from reviewer.cli import main
from reviewer.config import AnthropicSettings, Settings
from reviewer.grading.base import RawCitation, RawFinding, RawGrading, create_backend
from reviewer.queue.intake import ReviewTarget
from reviewer.review import Grade, Review
from reviewer.rubric import RubricCatalog
from reviewer.store import JobStore, make_engine
from tests.pdfs import text_pdf
from tests.store.support import new_job
from tests.test_api import AUTH, make_client, upload, wait_for

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_review_blind_on_the_command_line_says_so_in_the_report(capsys):
    code = main(["review", str(SAMPLES / "northwind_analytics.pdf"), "--backend", "offline", "--blind", "-o", "r.json"])
    assert code == 0
    review = Review.model_validate_json(Path("r.json").read_text())
    assert review.blind
    (warning,) = [w for w in review.warnings if w.code == "blind_model_input"]
    assert "vendor 1" in warning.message
    quotes = " ".join(c.quote for f in review.findings for c in f.citations)
    assert "[VENDOR]" not in quotes and "[PRODUCT-" not in quotes  # the report is in the original words


def test_eval_blind_is_measured_and_recorded(capsys):
    code = main(
        ["eval", "--samples", "--backend", "offline", "--no-progress", "--limit", "2", "--format", "json", "--blind"]
    )
    assert code == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["blind"] is True
    assert report["metrics"]["citation_validity"] == 1.0  # every quote maps back to the original page text


def test_a_blind_job_and_a_sighted_one_of_the_same_file_are_two_jobs(tmp_path):
    store = JobStore(make_engine(f"sqlite:///{tmp_path / 'jobs.db'}"))
    sighted, _ = store.create_or_get(new_job(1, model="claude-sonnet-5-5"))
    blind, created = store.create_or_get(new_job(1, model="claude-sonnet-5-5", blind=True))
    assert created and blind.id != sighted.id
    again, created = store.create_or_get(new_job(1, model="claude-sonnet-5-5", blind=True))
    assert not created and again.id == blind.id
    stored = store.get(blind.id)
    assert stored.blind and stored.model == "claude-sonnet-5-5"
    assert not store.get(sighted.id).blind
    assert store.find_same(f"{1:064x}", "r", "1", "offline", "claude-sonnet-5-5", True).id == blind.id


class RecordingBackend:
    name = "recording"
    offline = False

    def __init__(self) -> None:
        self.sent = []

    async def grade(self, document, rubric) -> RawGrading:
        self.sent.append(document)
        page = document.pages[0].text
        quote = page[: page.index("\n")] if "\n" in page else page[:60]
        findings = [
            RawFinding(criterion_id=c.id, grade=Grade.MISSING, rationale="[VENDOR] does not say.")
            for c in rubric.criteria
        ]
        findings[0] = RawFinding(
            criterion_id=rubric.criteria[0].id,
            grade=Grade.PARTIAL,
            rationale="[VENDOR] says so.",
            citations=[RawCitation(page=1, quote=quote)],
        )
        return RawGrading(findings=findings, vendor_name="[VENDOR]")


def test_an_upload_with_blind_is_graded_blind_and_reported_in_the_original_words(tmp_path):
    backend = RecordingBackend()

    def factory(name, settings):
        return backend if name == "recording" else create_backend(name, settings)

    with make_client(tmp_path, factory=factory) as client:
        queued = upload(client, name="coral.pdf", backend="recording", blind="true", vendor_name="Coral Data")
        assert queued.status_code == 202, queued.text
        assert queued.json()["blind"] is True
        done = wait_for(client, queued.json()["id"])
        sighted = upload(client, name="coral.pdf", backend="recording")
        assert sighted.json()["id"] != done["id"]  # not deduplicated to the blind review
        wait_for(client, sighted.json()["id"])
        audit = client.get(f"/v1/reviews/{done['id']}/audit", headers=AUTH)

    assert done["status"] == "done", done
    review = done["review"]
    assert review["blind"] is True
    sent = "\n".join(p.text for p in backend.sent[0].pages).casefold()
    assert "coral" not in sent and backend.sent[0].file_name == "proposal.pdf"
    assert "coral" in "\n".join(p.text for p in backend.sent[1].pages).casefold()
    assert review["vendor_name"] == "Coral Data"
    assert review["findings"][0]["rationale"].casefold().startswith("coral data says so")
    (citation,) = review["findings"][0]["citations"]
    assert citation["verified"] and "[VENDOR]" not in citation["quote"]
    created = next(e for e in audit.json()["items"] if e["action"] == "review_created")
    assert created["after"]["blind"] is True


def test_a_blind_review_is_queued_whatever_the_length_of_the_model_id():
    settings = Settings(anthropic=AnthropicSettings(model="m" * 64))  # the model column's whole width

    class Runner:
        def __init__(self) -> None:
            self.settings = settings

        def backend_for(self, name, model=None):
            return RecordingBackend()

    catalog = RubricCatalog.from_settings(settings)
    target = ReviewTarget.resolve(settings, catalog, Runner(), "default", "anthropic", blind=True)
    assert (target.model, target.blind) == ("m" * 64, True)


def test_a_batch_with_blind_input_grades_every_file_blind(tmp_path):
    backend = RecordingBackend()

    def factory(name, settings):
        return backend if name == "recording" else create_backend(name, settings)

    pdfs = [SAMPLES / "coral_data.pdf", SAMPLES / "brightpath_ai.pdf"]
    with make_client(tmp_path, factory=factory) as client:
        created = client.post(
            "/v1/batches",
            headers=AUTH,
            data={"backend": "recording", "blind_input": "true"},
            files=[("files", (p.name, p.read_bytes(), "application/pdf")) for p in pdfs],
        )
        assert created.status_code == 202, created.text
        jobs = [wait_for(client, item["job_id"]) for item in created.json()["items"]]
        sighted = client.post(
            "/v1/batches",
            headers=AUTH,
            data={"backend": "recording"},
            files=[("files", (pdfs[0].name, pdfs[0].read_bytes(), "application/pdf"))],
        )
        assert sighted.json()["items"][0]["job_id"] not in {j["id"] for j in jobs}
    assert [j["review"]["blind"] for j in jobs] == [True, True]
    sent = ["\n".join(p.text for p in d.pages).casefold() for d in backend.sent[:2]]
    assert "coral" not in sent[0] + sent[1] and "brightpath" not in sent[0] + sent[1]


class NamelessBackend(RecordingBackend):
    """Names no vendor: the job keeps none, so only the file's name says who the vendor is."""

    async def grade(self, document, rubric) -> RawGrading:
        return (await super().grade(document, rubric)).model_copy(update={"vendor_name": None})


def test_a_blind_reviews_clarification_round_sends_the_vendors_name_masked_in_every_file(tmp_path):
    """The vendor found from the proposal's file name alone ("coral_data.pdf") is masked in round 2 as in round
    1, in the proposal and in the answer, though round 2 grades one document named after both files."""
    backend = NamelessBackend()
    answer = text_pdf(["Coral Data Services: our answers", "Data is kept in the EU for thirty days."])

    def factory(name, settings):
        return backend if name == "recording" else create_backend(name, settings)

    with make_client(tmp_path, factory=factory) as client:
        queued = upload(client, name="coral_data.pdf", backend="recording", blind="true")
        rid = wait_for(client, queued.json()["id"])["id"]
        files = {"file": ("coral-answers.pdf", answer, "application/pdf")}
        assert client.post(f"/v1/reviews/{rid}/rounds", headers=AUTH, files=files).status_code == 202
        deadline = time.monotonic() + 30
        while (last := client.get(f"/v1/reviews/{rid}/rounds", headers=AUTH).json()["items"][-1])["status"] not in (
            "done",
            "failed",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        review = client.get(f"/v1/reviews/{rid}/rounds/2", headers=AUTH).json()["review"]

    assert last["status"] == "done", last
    first, second = ("\n".join(p.text for p in d.pages).casefold() for d in backend.sent)
    assert "coral" not in first and "our answers" in second and "coral" not in second
    assert review["document"]["file_name"] == "coral_data.pdf + coral-answers.pdf"
