import asyncio

from reviewer.documents import read_pdf
from reviewer.grading.offline import OfflineBackend
from reviewer.pipeline import review_document
from reviewer.restated import restates_criterion, restates_rubric
from reviewer.review import Grade
from tests.pdfs import text_pdf


def test_a_proposal_that_only_copies_the_met_guidance_does_not_score_100(rubric):
    pages = [f"{c.title}. {c.guidance.met}" for c in rubric.criteria]
    document = read_pdf(text_pdf(pages), "copied-rubric.pdf")
    review = asyncio.run(review_document(document, rubric, OfflineBackend()))
    assert review.overall_score is not None and review.overall_score < 50
    assert not any(f.grade is Grade.MET for f in review.findings)


def test_guidance_sentences_restate_the_rubric_and_commitments_do_not(rubric):
    criterion = rubric.criteria[0]
    first_sentence = criterion.guidance.met.split(". ")[0]
    assert restates_criterion(first_sentence, criterion)
    assert restates_rubric(criterion.guidance.met.upper(), rubric)
    assert not restates_rubric(
        "Northwind will deliver an evaluation set of 1,500 of your claims, labelled by your adjusters, "
        "before the contract is signed, and publish the accuracy per claim type every month.",
        rubric,
    )
