"""Finding contact details and personal data in page text: emails, URLs, phone numbers, IBANs and national
id numbers. Pure functions of a string; reviewer/masking.py decides what is replaced.

What is caught, and what is not (the README says the same):
- emails: any address with a dotted domain;
- URLs: http(s):// and www. addresses, and bare domains under common top-level domains (acme.io, acme.co.uk);
- phone numbers: international (+44 20 7946 0958, +1 (555) 123-4567), national with a trunk 0 (020 7946 0958,
  06 12 34 56 78), North American 555-123-4567 / (555) 123-4567, and any number after "Tel:", "Phone:", ...;
  8 to 15 digits. Prices, dates, clause numbers (3.2.1), percentages and figures with thousands separators
  are not phone numbers;
- IBANs: only when the mod-97 check digits are right;
- national ids: US social security numbers (valid area/group/serial), UK National Insurance numbers (valid
  prefixes), Spanish DNI numbers (check letter), and any id after a label ("Passport No.", "SSN:",
  "National ID:", "Tax ID:", ...). Other countries' unlabelled formats are not recognised.
"""

import re
from dataclasses import dataclass
from enum import StrEnum


class DataKind(StrEnum):
    EMAIL = "email"
    URL = "url"
    PHONE = "phone"
    IBAN = "iban"
    NATIONAL_ID = "national_id"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: DataKind
    key: str  # two spans with the same kind and key are the same item (one placeholder)


_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    rf"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*\.[A-Za-z]{{2,}}\b"
)
_TLDS = "com|net|org|io|ai|co|app|dev|cloud|tech|biz|info|eu|uk|de|fr|nl|be|ch|at|es|it|se|no|dk|fi|ie|us|ca|au|nz|in"
_URL = re.compile(
    rf"(?:\b(?:https?://|www\.)[^\s<>\"'()\[\]{{}}]+)"
    rf"|(?<![\w@.-])(?:{_DOMAIN_LABEL}\.)+(?:{_TLDS})\b(?![.-]?\w)(?:/[^\s<>\"'()\[\]{{}}]*)?",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?'\""

_SEP = r"[ .\-]"
_PHONE_PATTERNS = [
    # +44 20 7946 0958, +1 (555) 123-4567, +49 (0)30 1234567
    re.compile(rf"(?<![\w+])\+\d{{1,3}}(?:{_SEP}?\(0?\d{{1,4}}\))?(?:{_SEP}?\d{{1,5}}){{2,6}}(?![\w]|[.,]\d)"),
    # (555) 123-4567, (020) 7946 0958
    re.compile(rf"(?<![\w)])\(\d{{2,5}}\){_SEP}?\d{{3,4}}{_SEP}?\d{{3,4}}(?![\w]|[.,\-]\d)"),
    # 555-123-4567, 555.123.4567
    re.compile(r"(?<![\w.,\-])\d{3}([.\-])\d{3}\1\d{4}(?![\w]|[.,\-]\d)"),
    # 020 7946 0958, 030-1234-5678, 0161 496 0000
    re.compile(r"(?<![\w.,\-])0\d{1,4}[ \-]\d{3,4}[ \-]?\d{3,4}(?![\w]|[.,\-]\d)"),
    # 06 12 34 56 78, 01.23.45.67.89
    re.compile(r"(?<![\w.,\-])0\d(?:[ .]\d{2}){4}(?![\w]|[.,\-]\d)"),
]
_PHONE_LABELLED = re.compile(
    r"(?i:\b(?:tel|telephone|phone|mobile|mob|cell|fax|whatsapp)\b\.?(?:\s*(?:no\.?|number))?\s*[:.]?\s*)"
    r"(\+?[\d(][\d ().\-]{5,}\d)"
)
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 8, 15

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
MIN_IBAN, MAX_IBAN = 15, 34

_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])")
_UK_NI = re.compile(r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
_DNI = re.compile(r"\b(\d{8})-?([A-Z])\b")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_ID_LABELLED = re.compile(
    r"(?i:\b(?:ssn|social security(?: number| no\.?)?|national insurance(?: number| no\.?)?|ni number"
    r"|national id(?:entity)?(?: card)?(?: number| no\.?)?|id(?:entity)? (?:card )?(?:number|no\.)"
    r"|passport(?: number| no\.?)?|tax id(?: number)?|personal (?:id|identity) (?:number|code))\s*[:#]?\s*)"
    r"([A-Z0-9](?:[A-Z0-9\-]|(?<=\d) (?=\d)){4,18}[A-Z0-9])\b"
)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def iban_is_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not MIN_IBAN <= len(compact) <= MAX_IBAN or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def _ibans(text: str) -> list[Span]:
    found = []
    for match in _IBAN.finditer(text):
        chunk = match.group()
        # The pattern may run on into a following code ("... 32 SWIFT"): the longest valid prefix is the IBAN.
        for end in range(len(chunk), 0, -1):
            if chunk[end - 1] != " " and iban_is_valid(chunk[:end]):
                found.append(Span(match.start(), match.start() + end, DataKind.IBAN, chunk[:end].replace(" ", "")))
                break
    return found


def _phones(text: str) -> list[Span]:
    found = []
    for pattern in _PHONE_PATTERNS:
        for match in pattern.finditer(text):
            digits = _digits(match.group())
            if MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
                found.append(Span(match.start(), match.end(), DataKind.PHONE, digits))
    for match in _PHONE_LABELLED.finditer(text):
        value = match.group(1).rstrip(" .-(")
        digits = _digits(value)
        if 7 <= len(digits) <= MAX_PHONE_DIGITS:
            found.append(Span(match.start(1), match.start(1) + len(value), DataKind.PHONE, digits))
    return found


def _national_ids(text: str) -> list[Span]:
    found = [Span(m.start(), m.end(), DataKind.NATIONAL_ID, _digits(m.group())) for m in _SSN.finditer(text)]
    found += [Span(m.start(), m.end(), DataKind.NATIONAL_ID, m.group().replace(" ", "")) for m in _UK_NI.finditer(text)]
    found += [
        Span(m.start(), m.end(), DataKind.NATIONAL_ID, m.group(1) + m.group(2))
        for m in _DNI.finditer(text)
        if _DNI_LETTERS[int(m.group(1)) % 23] == m.group(2)
    ]
    for match in _ID_LABELLED.finditer(text):
        value = match.group(1)
        if sum(c.isdigit() for c in value) >= 4:
            key = value.replace(" ", "").replace("-", "").upper()
            found.append(Span(match.start(1), match.end(1), DataKind.NATIONAL_ID, key))
    return found


def _urls(text: str) -> list[Span]:
    found = []
    for match in _URL.finditer(text):
        value = match.group().rstrip(_URL_TRAILING)
        host = re.sub(r"^(?:https?://)?", "", value, flags=re.IGNORECASE).split("/")[0]
        labels = host.split(".")
        if len(value) < 4 or len(labels) < 2 or not any(c.isalpha() for c in labels[-2]):
            continue  # "4.1.io" is a clause number run into a word, not a domain
        key = re.sub(r"^(?:https?://)?(?:www\.)?", "", value.casefold()).rstrip("/")
        found.append(Span(match.start(), match.start() + len(value), DataKind.URL, key))
    return found


def _emails(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), DataKind.EMAIL, m.group().casefold()) for m in _EMAIL.finditer(text)]


def find_personal_data(text: str, kinds: frozenset[DataKind] | None = None) -> list[Span]:
    """Every span of the given kinds (all when None) in `text`; spans may overlap (the caller chooses)."""
    finders = {
        DataKind.EMAIL: _emails,
        DataKind.URL: _urls,
        DataKind.PHONE: _phones,
        DataKind.IBAN: _ibans,
        DataKind.NATIONAL_ID: _national_ids,
    }
    spans: list[Span] = []
    for kind, finder in finders.items():
        if kinds is None or kind in kinds:
            spans += finder(text)
    return spans
