from reviewer.citations import QuoteLocator
from tests.conftest import make_document

PAGE_1 = "Introduction.\nWe are a small team."
PAGE_2 = (
    "4. Data safety\nAll claim data stays in your tenant in the EU West region; no claim text is sent "
    "to any external\nmodel API. Your data is \u201cnever\u201d used to train other models \u2014 ever."
)


def locator() -> QuoteLocator:
    return QuoteLocator(make_document(PAGE_1, PAGE_2))


def test_verbatim_quote_is_verified_with_offsets_into_the_page_text():
    quote = "no claim text is sent to any external"
    citation = locator().locate(2, quote)
    assert citation.verified
    assert citation.page == 2
    assert PAGE_2[citation.start : citation.end] == quote
    assert citation.cited_page is None


def test_whitespace_and_line_breaks_in_the_quote_are_tolerated():
    citation = locator().locate(2, "sent to any   external model API")
    assert citation.verified
    assert PAGE_2[citation.start : citation.end] == "sent to any external\nmodel API"


def test_straight_quote_marks_dashes_and_case_match_typographic_ones():
    citation = locator().locate(2, 'your data is "never" used to train other models - ever')
    assert citation.verified


def test_quote_with_ellipsis_matches_parts_in_order_and_spans_them():
    citation = locator().locate(2, "All claim data stays in your tenant ... no claim text is sent")
    assert citation.verified
    assert PAGE_2[citation.start : citation.end].startswith("All claim data")
    assert PAGE_2[citation.start : citation.end].endswith("no claim text is sent")
    assert not locator().locate(2, "no claim text is sent ... All claim data stays").verified


def test_quote_on_another_page_is_verified_and_the_page_corrected():
    citation = locator().locate(1, "stays in your tenant in the EU West region")
    assert citation.verified
    assert citation.page == 2
    assert citation.cited_page == 1
    assert "page 2" in citation.note


def test_quote_with_a_changed_word_is_not_verified():
    citation = locator().locate(2, "no claim text is sent to any internal model API")
    assert not citation.verified
    assert citation.start is None
    assert citation.note == "not found in the document"


def test_very_short_quotes_are_not_accepted_as_evidence():
    citation = locator().locate(2, "data")
    assert not citation.verified
    assert "too short" in citation.note


def test_quote_citing_a_page_that_does_not_exist_is_still_located():
    citation = locator().locate(9, "We are a small team")
    assert citation.verified and citation.page == 1 and citation.cited_page == 9


def test_quote_containing_a_literal_ellipsis_is_found_verbatim():
    page = "This Agreement dated ………………. (the Effective Date) is made between the parties."
    citation = QuoteLocator(make_document(page)).locate(1, "This Agreement dated ………………. (the Effective Date)")
    assert citation.verified and citation.start == 0


def locate_on(page: str, quote: str):
    return QuoteLocator(make_document(page)).locate(1, quote)


def test_an_ellipsis_cannot_leave_out_a_negation():
    page = "Client data is never used for training our models. We will not share your data with anyone."
    citation = locate_on(page, "Client data is ... used for training our models")
    assert not citation.verified
    assert "negation" in citation.note
    assert not locate_on(page, "We will ... share your data").verified
    assert not locate_on(page, "We will ... share your data with anyone").verified


def test_contracted_negations_count_as_negations():
    page = "Our staff won't access production systems. They don't keep copies of claim files."
    assert not locate_on(page, "Our staff ... access production systems").verified
    assert not locate_on(page, "They ... keep copies of claim files").verified


def test_each_part_of_an_elided_quote_must_be_several_words():
    page = "Competitors in this market rarely offer a written uptime guarantee of any kind."
    citation = locate_on(page, "Competitors ... guarantee")
    assert not citation.verified
    assert "3 words" in citation.note
    assert not locate_on(page, "Competitors in this market ... guarantee").verified


def test_a_quote_must_start_and_end_on_word_boundaries():
    page = "Users are unable to delete their records; only administrators can remove them."
    assert not locate_on(page, "able to delete their records").verified
    assert not locate_on(page, "Users are unable to delete their rec").verified
    assert not locate_on(page, "Users are unable ... delete their rec").verified
    assert locate_on(page, "unable to delete their records").verified


def test_legitimate_elisions_still_verify():
    page = (
        "All production data is encrypted at rest with AES-256, using keys held in your own KMS, "
        "and it is never copied outside the EU region; backups are kept for 30 days."
    )
    citation = locate_on(page, "All production data is encrypted at rest ... using keys held in your own KMS")
    assert citation.verified
    # A negation inside a quoted part is quoted, not left out.
    assert locate_on(page, "All production data is encrypted ... it is never copied outside the EU region").verified
    assert locate_on(page, "All production data is encrypted … using keys held in your own KMS").verified
    assert locate_on(page, "it is never copied outside … backups are kept for 30 days").verified


def test_elided_search_stays_linear_on_a_page_of_repeated_near_misses():
    import time

    page = "we will not share it. " * 20000 + "we will keep your data safe and share your data only with you."
    started = time.perf_counter()
    citation = locate_on(page, "we will keep ... share your data only")
    assert citation.verified
    assert not locate_on(page, "we will ... share it").verified
    assert time.perf_counter() - started < 2.0
