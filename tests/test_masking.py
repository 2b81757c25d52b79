import asyncio

from reviewer.citations import QuoteLocator
from reviewer.config import GradingSettings
from reviewer.documents import Document
from reviewer.grading.base import InjectionReport, RawCitation, RawFinding, RawGrading
from reviewer.masking import BLIND, PERSONAL_DATA, MaskingPolicy, mask_document
from reviewer.names import NameKind, find_names
from reviewer.pipeline import review_document
from reviewer.review import Grade
from tests.conftest import make_document

PAGE_1 = """Acme Analytics Ltd. - Proposal for Claims Triage
Prepared by: Jane Okafor
Acme Analytics has run our Sentinel platform in production since 2019 for 40 paying customers.
Contact Dr. Omar Haddad, Head of Delivery, at omar.haddad@acme-analytics.co.uk or +44 20 7946 0958.
The fee is $1,200,000 per year at 99.9% availability; clause 3.2.1 applies from 2024-05-01."""
PAGE_2 = """Acme keeps every document in the EU and never trains on client data.
Security details are at https://acme-analytics.co.uk/security and Sentinel logs are kept 30 days.
Dr Haddad reports monthly. Invoices are paid to GB82 WEST 1234 5698 7654 32.

Kind regards,
Priya Natarajan"""


def acme() -> Document:
    return make_document(PAGE_1, PAGE_2, file_name="acme_analytics_proposal.pdf")


def page_text(document: Document, number: int) -> str:
    return next(p.text for p in document.pages if p.number == number)


def test_blind_masking_hides_the_vendor_its_product_people_and_contact_details():
    masked = mask_document(acme(), BLIND)
    sent = "\n".join(p.text for p in masked.document.pages)
    for secret in ("Acme", "Sentinel", "Okafor", "Haddad", "Natarajan", "omar.haddad@", "7946", "WEST", "https://"):
        assert secret not in sent
    assert masked.document.file_name == "proposal.pdf"
    assert "Acme" not in masked.document.file_name
    # What grading needs stays: figures, dates, clause numbers, the EU.
    for kept in ("$1,200,000", "99.9%", "3.2.1", "2024-05-01", "in the EU", "30 days", "40 paying customers"):
        assert kept in sent


def test_one_entity_has_one_placeholder_everywhere():
    masked = mask_document(acme(), BLIND)
    page_1, page_2 = (p.text for p in masked.document.pages)
    assert page_1.startswith("[VENDOR]")
    assert page_2.startswith("[VENDOR] keeps")  # "Acme" alone is the same vendor as "Acme Analytics Ltd."
    sentinel = next(p for p, text in masked.originals.items() if text == "Sentinel")
    assert sentinel.startswith("[PRODUCT-") and sentinel in page_1 and sentinel in page_2
    haddad = next(p for p, text in masked.originals.items() if text == "Omar Haddad")
    assert f"Dr. {haddad}" in page_1 and f"Dr {haddad} reports" in page_2  # the titled surname is the same person


def test_a_quote_of_the_masked_text_maps_back_to_the_exact_original_span():
    document = acme()
    masked = mask_document(document, BLIND)
    masked_page = page_text(masked.document, 1)
    start = masked_page.index("[VENDOR] has run")
    end = masked_page.index("paying customers") + len("paying customers")
    quote = masked_page[start:end]
    assert "[PRODUCT-" in quote

    restored = masked.restore_quote(1, quote)
    assert restored == "Acme Analytics has run our Sentinel platform in production since 2019 for 40 paying customers"
    original_start, original_end = masked.to_original_span(1, start, end)
    assert PAGE_1[original_start:original_end] == restored
    located = QuoteLocator(document).locate(1, restored)
    assert (located.verified, located.start, located.end) == (True, original_start, original_end)


def test_a_placeholder_is_restored_as_the_words_it_replaced_at_that_place():
    masked = mask_document(acme(), BLIND)
    # "[VENDOR]" stands for "Acme Analytics Ltd" on page 1 and for "Acme" on page 2.
    assert masked.restore_quote(2, "[VENDOR] keeps every document in the EU") == "Acme keeps every document in the EU"
    assert masked.restore_text("[VENDOR] and [vendor]") == "Acme Analytics Ltd. and Acme Analytics Ltd."
    assert masked.restore_text("[PERSON-99] is unknown") == "[PERSON-99] is unknown"


def test_redaction_alone_masks_personal_data_and_leaves_names():
    masked = mask_document(acme(), PERSONAL_DATA)
    sent = "\n".join(p.text for p in masked.document.pages)
    assert "omar.haddad@" not in sent and "7946" not in sent and "GB82" not in sent
    assert "Acme Analytics" in sent and "Omar Haddad" in sent and "https://acme-analytics.co.uk/security" in sent
    assert masked.document.file_name == "acme_analytics_proposal.pdf"
    (warning,) = masked.warnings()
    assert warning.code == "personal_data_redacted"
    assert "3 items (email 1, iban 1, phone 1)" in warning.message


def test_placeholder_lookalikes_in_the_document_cannot_be_restored_into_anything():
    hostile = make_document(
        "Acme Analytics Ltd. Contact sales@acme.io. Text: [VENDOR] [EMAIL-1] [PERSON-1] stays as written."
    )
    masked = mask_document(hostile, BLIND)
    sent = masked.document.pages[0].text
    assert "[VENDOR] [EMAIL-1] [PERSON-1] stays as written" in sent  # the document's own text, untouched
    assert "⟦VENDOR⟧" in sent and "⟦EMAIL-1⟧" in sent  # ours use brackets the document does not contain
    assert masked.restore_text("[EMAIL-1] and ⟦EMAIL-1⟧") == "[EMAIL-1] and sales@acme.io"
    restored = masked.restore_quote(1, "Text: [VENDOR] [EMAIL-1] [PERSON-1] stays as written.")
    assert restored == "Text: [VENDOR] [EMAIL-1] [PERSON-1] stays as written."


def test_a_document_carrying_every_bracket_style_gets_placeholders_it_cannot_contain():
    styles = " ".join(f"{o}VENDOR{c}" for o, c in [("[", "]"), ("⟦", "⟧"), ("⟪", "⟫"), ("{{", "}}")])
    masked = mask_document(make_document(f"Acme Analytics Ltd. writes {styles}."), BLIND)
    (placeholder,) = masked.originals
    assert placeholder not in styles and placeholder.startswith("[VENDOR~")
    assert masked.restore_text("[VENDOR]") == "[VENDOR]"


def test_people_are_found_by_generic_cues():
    texts = [
        "Project lead: Maria Gonzalez-Ruiz will run the pilot.",
        "Ms. Ingrid Solberg, our Chief Technology Officer, signs off releases.",
        "Tomasz Wieczorek, Senior Data Engineer, builds the pipelines.",
        "Yours sincerely,\nHelena Brandt",
    ]
    people = {n.forms[0] for n in find_names(texts, kinds=frozenset({NameKind.PERSON}))}
    assert people == {"Maria Gonzalez-Ruiz", "Ingrid Solberg", "Tomasz Wieczorek", "Helena Brandt"}


def test_ordinary_capitalised_words_are_not_taken_for_names():
    texts = [
        "Our Cloud platform runs in the cloud. Machine Learning, Director: we use machine learning.",
        "Data Protection Officer: see the data protection annex. Grace period of 30 days.",
    ]
    names = find_names(texts, kinds=frozenset(NameKind), file_name="final_proposal_v2.pdf")
    assert names == []


def test_products_the_proposal_presents_as_its_own_are_found():
    texts = [
        "We built Lumina Insight™ and our Quarry platform. BrightPath Nexus, our proprietary AI platform, "
        "hosts our claims service, Tally Sort, for 12 customers. Nexus is updated weekly."
    ]
    names = find_names(texts, kinds=frozenset(NameKind), vendor_names=["BrightPath AI"])
    products = {f for n in names if n.kind is NameKind.PRODUCT for f in n.forms}
    assert products == {"Lumina Insight", "Quarry", "BrightPath Nexus", "Nexus", "Tally Sort"}


class RecordingBackend:
    """A backend that remembers what it was sent and answers in the masked text's terms."""

    name = "recording"

    def __init__(self, answer, *, offline: bool = False) -> None:
        self.answer = answer
        self.offline = offline
        self.sent: Document | None = None

    async def grade(self, document, rubric) -> RawGrading:
        self.sent = document
        return self.answer(document, rubric)


def _answer_quoting_masked_text(document: Document, rubric) -> RawGrading:
    masked_page = document.pages[0].text
    start = masked_page.index("has run") - len("[VENDOR] ")
    quote = masked_page[start : masked_page.index("paying customers") + len("paying customers")]
    person = masked_page[masked_page.index("Dr. ") + 4 :].split(",")[0]
    findings = [
        RawFinding(
            criterion_id=c.id,
            grade=Grade.MISSING,
            rationale="Not addressed.",
        )
        for c in rubric.criteria
    ]
    findings[1] = RawFinding(
        criterion_id=rubric.criteria[1].id,
        citations=[RawCitation(page=1, quote=quote)],
        rationale=f"[VENDOR] runs its own product; {person} leads delivery.",
        grade=Grade.MET,
        clarification_question="Can [VENDOR] share uptime reports?",
    )
    return RawGrading(
        findings=findings,
        vendor_name="[VENDOR]",
        injection_reports=[InjectionReport(page=2, quote="[VENDOR] keeps every document in the EU")],
    )


def test_a_blind_review_sends_no_names_and_reports_the_original_words(rubric):
    backend = RecordingBackend(_answer_quoting_masked_text)
    document = acme()
    review = asyncio.run(review_document(document, rubric, backend, masking=MaskingPolicy(blind=True)))

    sent = "\n".join(p.text for p in backend.sent.pages) + backend.sent.file_name
    assert "Acme" not in sent and "omar.haddad" not in sent and "Haddad" not in sent

    finding = review.findings[1]
    (citation,) = finding.citations
    assert citation.verified
    expected = "Acme Analytics has run our Sentinel platform in production since 2019 for 40 paying customers"
    assert citation.quote == expected
    assert PAGE_1[citation.start : citation.end] == expected
    assert finding.rationale == "Acme Analytics Ltd. runs its own product; Omar Haddad leads delivery."
    assert finding.clarification_question == "Can Acme Analytics Ltd. share uptime reports?"
    assert review.vendor_name == "Acme Analytics Ltd."
    (injection,) = [w for w in review.warnings if w.code == "prompt_injection"]
    assert injection.pages == [2]  # the model's report, in masked words, located in the original page
    assert review.blind is True
    codes = [w.code for w in review.warnings]
    assert "blind_model_input" in codes and "personal_data_redacted" in codes


def test_the_job_vendor_name_is_masked_even_without_a_legal_form(rubric):
    document = make_document("Zephyrine builds claims tools. Zephyrine hosts them in Frankfurt.")
    backend = RecordingBackend(lambda d, r: RawGrading())
    policy = MaskingPolicy(blind=True).with_vendor("Zephyrine")
    asyncio.run(review_document(document, rubric, backend, masking=policy))
    assert backend.sent.pages[0].text == "[VENDOR] builds claims tools. [VENDOR] hosts them in Frankfurt."


def _no_answer(document, rubric) -> RawGrading:
    return RawGrading()


def test_personal_data_is_redacted_by_default_for_a_backend_that_sends_it_out(rubric):
    backend = RecordingBackend(_no_answer)
    review = asyncio.run(review_document(acme(), rubric, backend))
    sent = "\n".join(p.text for p in backend.sent.pages)
    assert "omar.haddad@" not in sent and "+44 20 7946 0958" not in sent
    assert "Acme Analytics" in sent  # names stay: that is blind mode's job
    (warning,) = [w for w in review.warnings if w.code == "personal_data_redacted"]
    assert "3 items" in warning.message
    assert review.blind is False


def test_the_offline_grader_is_not_redacted_by_default(rubric):
    backend = RecordingBackend(_no_answer, offline=True)
    review = asyncio.run(review_document(acme(), rubric, backend))
    assert backend.sent.pages[0].text == PAGE_1
    assert not [w for w in review.warnings if w.code in ("personal_data_redacted", "blind_model_input")]


def test_redaction_can_be_turned_off(rubric, monkeypatch):
    monkeypatch.setenv("REVIEWER_REDACT_PERSONAL_DATA", "false")
    backend = RecordingBackend(_no_answer)
    policy = MaskingPolicy.from_settings(GradingSettings())
    asyncio.run(review_document(acme(), rubric, backend, masking=policy))
    assert backend.sent.pages[0].text == PAGE_1


def test_the_server_setting_and_the_rubric_make_reviews_blind(rubric, monkeypatch):
    monkeypatch.setenv("REVIEWER_BLIND", "true")
    assert MaskingPolicy.from_settings(GradingSettings()).blind

    blind_rubric = rubric.model_copy(update={"blind": True})
    backend = RecordingBackend(_no_answer, offline=True)
    review = asyncio.run(review_document(acme(), blind_rubric, backend))
    assert "Acme" not in backend.sent.pages[0].text
    assert review.blind is True


def test_furniture_spans_follow_the_masked_text():
    bodies = ["We measure first.", "Acme hosts in the EU.", "You own the weights."]
    pages = [f"Acme Analytics Ltd. | jane@acme.io\n{body}" for body in bodies]
    document = Document.from_text("\f".join(pages), "acme.pdf")
    assert document.pages[0].furniture
    masked = mask_document(document, BLIND)
    for page in masked.document.pages:
        (start, end), *_ = page.furniture
        assert page.text[start:end] == "[VENDOR] | [EMAIL-1]"
        assert page.content in ("We measure first.", "[VENDOR] hosts in the EU.", "You own the weights.")


def test_the_vendor_s_name_is_masked_with_the_organisation_words_the_text_writes_after_it():
    pages = [
        "CORAL DATA SERVICES - RESPONSE TO RFP NO. 88/2026",
        "Coral Data Services shall design the model. Coral Data provides services to insurers.",
    ]
    masked = mask_document(make_document(*pages, file_name="coral_data.pdf"), BLIND)
    first, second = (p.text for p in masked.document.pages)
    assert first == "[VENDOR] - RESPONSE TO RFP NO. 88/2026"
    assert second == "[VENDOR] shall design the model. [VENDOR] provides services to insurers."  # 'services': a word
    given = mask_document(make_document(*pages), BLIND, vendor_names=["Coral Data"])
    assert "Services" not in given.document.pages[1].text and "SERVICES" not in given.document.pages[0].text
