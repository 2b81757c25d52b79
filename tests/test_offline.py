import asyncio
from pathlib import Path

from reviewer.grading.offline import CriterionQuery, OfflineBackend, index_document
from reviewer.passages import Passage, is_heading
from reviewer.pipeline import review_document
from reviewer.retrieval import tokenize
from reviewer.review import Grade
from reviewer.rubric import parse_rubric
from tests.conftest import make_document
from tests.samples import sample_document

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def offline_review(document, rubric):
    return asyncio.run(review_document(document, rubric, OfflineBackend()))


def test_offline_review_is_labelled_and_deterministic(rubric):
    document = sample_document("helix_systems.pdf")
    first, second = offline_review(document, rubric), offline_review(document, rubric)
    assert first.offline and first.model is None and first.prompt_version.startswith("offline/")
    assert first.model_dump(exclude={"created_at"}) == second.model_dump(exclude={"created_at"})
    for f in first.findings:
        assert "relevance" not in f.rationale and "lead" not in f.rationale and "needs 0." not in f.rationale
        assert f.details.startswith("offline/") and "relevance 0." in f.details and "red-flag lead" in f.details


def test_offline_citations_are_sentences_of_the_document_so_they_verify(rubric):
    for pdf in SAMPLES.glob("*.pdf"):
        review = offline_review(sample_document(pdf), rubric)
        for finding in review.findings:
            assert all(c.verified for c in finding.citations), (pdf.name, finding.criterion_id)


def test_offline_grader_never_cites_the_injection_passage(rubric):
    document = sample_document("helix_systems.pdf")
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


OWNERSHIP = parse_rubric(
    {
        "id": "ownership",
        "version": "1",
        "title": "Ownership",
        "criteria": [
            {
                "id": "model_ownership",
                "title": "Model ownership",
                "kind": "contract",
                "weight": 1,
                "description": "Who owns the trained model weights at the end of the contract.",
                "guidance": {
                    "met": "The client owns the trained model weights outright.",
                    "partial": "Ownership of the weights is mentioned but left vague.",
                    "red_flag": "The vendor retains the model weights and licenses them back to the client.",
                },
                "keywords": ["weights", "ownership", "model", "licence"],
            }
        ],
    },
    "test rubric",
)
FILLER = (
    "Our team has delivered analytics projects for twelve years. "
    "Project meetings take place every second Tuesday. "
    "The kickoff workshop covers goals, timeline and staffing."
)


def ownership_finding(statement: str):
    review = offline_review(make_document(FILLER, statement), OWNERSHIP)
    return review.findings[0]


def test_red_flag_cues_are_the_words_only_the_red_flag_guidance_uses():
    query = CriterionQuery(OWNERSHIP.criteria[0])
    assert set(tokenize("vendor retains licenses back")) <= query.red_flag_cues.keys()
    assert set(tokenize("owns trained outright")) <= query.met_cues.keys()
    assert not query.red_flag_cues.keys() & query.met_cues.keys()
    shared = set(tokenize("client model weights"))
    assert not shared & (query.red_flag_cues.keys() | query.met_cues.keys())


def test_a_passage_in_the_red_flags_words_is_a_red_flag_and_the_rationale_names_them():
    finding = ownership_finding("Acme retains the model weights and licenses them to you for the contract term.")
    assert finding.grade is Grade.RED_FLAG
    assert "retains" in finding.rationale and "licenses" in finding.rationale
    assert finding.citations[0].page == 2 and finding.citations[0].verified


def test_a_passage_in_the_met_words_is_not_a_red_flag():
    finding = ownership_finding("You own the trained model weights outright, with full ownership from delivery.")
    assert finding.grade is Grade.MET
    assert "nothing there reads like the red flag" in finding.rationale


def test_evidence_covering_few_key_terms_is_partial():
    finding = ownership_finding("Ownership questions will be settled in the final contract.")
    assert finding.grade is Grade.PARTIAL
    assert "a full answer covers at least 3" in finding.rationale


def test_headings_are_never_cited_a_statement_is():
    heading = "Model weights and ownership"
    statement = "You own the trained model weights outright, with full ownership from delivery."
    document = make_document(FILLER, f"{heading}\n{statement}\nProject meetings are held weekly on site.")
    passages, _ = index_document(document, headings=True)
    assert heading in [p.text for p in passages]
    finding = offline_review(document, OWNERSHIP).findings[0]
    quotes = [c.quote for c in finding.citations]
    assert heading not in quotes and statement in quotes


def test_is_heading_means_short_and_not_ended_like_a_sentence():
    def passage(text):
        return Passage(page=1, start=0, end=len(text), text=text)

    assert is_heading(passage("Data protection and security"))
    assert not is_heading(passage("Data is encrypted."))
    assert not is_heading(passage("Data is encrypted at rest and in transit with keys held by you"))


def test_no_red_flag_without_a_red_flag_word_even_at_a_zero_margin():
    rubric = OWNERSHIP.model_copy(update={"offline": OWNERSHIP.offline.model_copy(update={"red_flag_margin": 0.0})})
    document = make_document(FILLER, "The model weights are listed in the client annex with their ownership.")
    finding = offline_review(document, rubric).findings[0]
    assert finding.grade is not Grade.RED_FLAG


def test_numbered_and_title_cased_section_titles_are_headings_sentences_are_not():
    def passage(text):
        return Passage(page=1, start=0, end=len(text), text=text)

    for title in ("B.6 Monitoring and Retraining.", "3. Data Protection", "Annex C: Model Ownership and Licensing."):
        assert is_heading(passage(title)), title
    for sentence in (
        "1. We will deliver the trained model.",
        "Retraining is not part of the subscription.",
        "Set-up fee USD 60,000;",
        "The assistant runs exclusively on the Corvid Converse platform.",
    ):
        assert not is_heading(passage(sentence)), sentence


def test_a_numbered_heading_is_never_cited_but_still_says_what_the_section_is_about():
    heading = "B.4 Model Weights and Ownership."
    statement = "You own the trained model weights outright, with full ownership from delivery."
    document = make_document(FILLER, f"{heading}\n{statement}\nProject meetings are held weekly on site.")
    finding = offline_review(document, OWNERSHIP).findings[0]
    quotes = [c.quote for c in finding.citations]
    assert heading not in quotes and statement in quotes


def test_a_weak_passage_on_another_topic_is_not_cited_as_padding():
    statement = "You own the trained model weights outright, with full ownership from delivery."
    padding = "Our client workshops are held at the end of each contract phase."
    document = make_document(FILLER, f"{statement}\n\n{padding}")
    finding = offline_review(document, OWNERSHIP).findings[0]
    assert finding.grade is Grade.MET
    assert [c.quote for c in finding.citations] == [statement]


def test_rationales_say_what_was_found_and_where_and_keep_the_figures_in_details():
    finding = ownership_finding("Acme retains the model weights and licenses them to you for the contract term.")
    assert finding.rationale.startswith("Page 2 reads like this criterion's red flag")
    assert not any(ch.isdigit() for ch in finding.rationale.replace("Page 2", ""))
    assert "relevance" in finding.details and "red-flag lead" in finding.details and "from 0.7" in finding.details
    missing = offline_review(make_document(FILLER), OWNERSHIP).findings[0]
    assert missing.grade is Grade.MISSING and "does not appear to address" in missing.rationale
    assert "relevance" in missing.details
