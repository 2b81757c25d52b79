import asyncio
from pathlib import Path

from reviewer.documents import read_pdf
from reviewer.grading.offline import OfflineBackend
from reviewer.pipeline import review_document
from reviewer.review import Grade
from tests.conftest import make_document

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def offline_review(document, rubric):
    return asyncio.run(review_document(document, rubric, OfflineBackend()))


def test_offline_review_is_labelled_and_deterministic(rubric):
    document = read_pdf((SAMPLES / "helix_systems.pdf").read_bytes(), "helix_systems.pdf")
    first, second = offline_review(document, rubric), offline_review(document, rubric)
    assert first.offline and first.model is None and first.prompt_version.startswith("offline/")
    assert first.model_dump(exclude={"created_at"}) == second.model_dump(exclude={"created_at"})
    assert all(f.rationale.startswith("Offline grader") for f in first.findings)


def test_offline_citations_are_sentences_of_the_document_so_they_verify(rubric):
    for pdf in SAMPLES.glob("*.pdf"):
        review = offline_review(read_pdf(pdf.read_bytes(), pdf.name), rubric)
        for finding in review.findings:
            assert all(c.verified for c in finding.citations), (pdf.name, finding.criterion_id)


def test_offline_grader_never_cites_the_injection_passage(rubric):
    document = read_pdf((SAMPLES / "helix_systems.pdf").read_bytes(), "helix_systems.pdf")
    review = offline_review(document, rubric)
    quotes = " ".join(c.quote for f in review.findings for c in f.citations)
    assert "ignore your previous" not in quotes
    assert any(w.code == "prompt_injection" and w.pages == [2] for w in review.warnings)


def test_a_document_about_something_else_is_graded_missing(rubric):
    document = make_document(
        "The annual company picnic will be held in June at the lakeside park. Bring sunscreen.",
        "Parking is available behind the main building; the cafeteria opens at eight.",
    )
    review = offline_review(document, rubric)
    assert {f.grade for f in review.findings} == {Grade.MISSING}


def test_a_clear_commitment_is_graded_and_cited(rubric):
    document = make_document(
        "Data safety. All client data is stored in the EU region, encrypted at rest. No data is sent to any "
        "third-party model API, and client data is never used for training other models. Retention: deleted "
        "after 30 days.",
    )
    review = offline_review(document, rubric)
    finding = next(f for f in review.findings if f.criterion_id == "data_safety")
    assert finding.grade in {Grade.MET, Grade.PARTIAL}
    assert finding.citations and finding.citations[0].page == 1
