import pytest

from reviewer.personal_data import DataKind, find_personal_data, iban_is_valid


def found(text: str, kind: DataKind | None = None) -> list[str]:
    spans = sorted(find_personal_data(text), key=lambda s: s.start)
    return [text[s.start : s.end] for s in spans if kind is None or s.kind is kind]


@pytest.mark.parametrize(
    "address", ["jane.doe@acme-analytics.co.uk", "ops+rfp@example.com", "J.Smith@mail.example.org"]
)
def test_email_addresses_are_found_whole(address):
    assert found(f"Write to {address}, please.", DataKind.EMAIL) == [address]


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+1 (555) 123-4567",
        "+49 (0)30 1234567",
        "+33 6 12 34 56 78",
        "+81-3-1234-5678",
        "020 7946 0958",
        "06 12 34 56 78",
        "555-123-4567",
        "(555) 123-4567",
    ],
)
def test_phone_numbers_in_international_and_national_formats_are_found(phone):
    assert phone in found(f"Call us on {phone} any day.", DataKind.PHONE)


def test_a_number_after_a_phone_label_is_a_phone_number():
    assert found("Tel: 7946 0958 (office hours)", DataKind.PHONE) == ["7946 0958"]


@pytest.mark.parametrize(
    "text",
    [
        "The fee is $1,200,000 per year, or EUR 45.000 per quarter.",
        "Go-live on 2024-05-01, review on 12.05.2024 and 01/06/2025.",
        "Clause 3.2.1 and section 10.4.2 apply; see annex 4.1.",
        "Uptime of 99.9% and an F1 of at least 0.88 on 1,500 claims.",
        "Certified to ISO 27001:2022 and SOC 2 since 2019; the term runs 2023-2026.",
        "Version 12.3.4567 ships with 16 GB of memory and 2 x 500 GB disks.",
    ],
)
def test_ordinary_numbers_are_not_personal_data(text):
    assert found(text) == []


def test_an_iban_is_found_only_when_its_check_digits_are_right():
    assert found("Pay to IBAN GB82 WEST 1234 5698 7654 32 SWIFT code", DataKind.IBAN) == ["GB82 WEST 1234 5698 7654 32"]
    assert found("DE89370400440532013000", DataKind.IBAN) == ["DE89370400440532013000"]
    assert found("Pay to GB83 WEST 1234 5698 7654 32", DataKind.IBAN) == []  # one check digit off
    assert iban_is_valid("FR14 2004 1010 0505 0001 3M02 606")
    assert not iban_is_valid("FR15 2004 1010 0505 0001 3M02 606")


def test_national_id_formats_are_found():
    text = "SSN 123-45-6789; NI number AB 12 34 56 C; DNI 12345678Z; Passport No: 533380006."
    assert set(found(text, DataKind.NATIONAL_ID)) >= {"123-45-6789", "AB 12 34 56 C", "12345678Z", "533380006"}


def test_invalid_national_id_formats_are_not():
    # SSN area 000 and 666 do not exist; BG/GB are not NI prefixes; the DNI check letter of 12345678 is Z.
    assert found("000-12-3456, 666-12-3456, GB 12 34 56 A, BG123456A, 12345678A", DataKind.NATIONAL_ID) == []


def test_urls_and_bare_domains_are_found_but_clause_numbers_are_not():
    text = "See https://acme.io/security, www.acme.com and acme.co.uk; not section 4.1.io or e.g. this."
    assert found(text, DataKind.URL) == ["https://acme.io/security", "www.acme.com", "acme.co.uk"]


def test_the_same_item_written_twice_has_one_key():
    spans = find_personal_data("JANE@ACME.COM and jane@acme.com", frozenset({DataKind.EMAIL}))
    assert len({s.key for s in spans}) == 1
