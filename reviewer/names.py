"""Finding the names blind model input hides: the vendor's, the products the proposal presents as its own,
and people's. Generic cues only, no list of known companies or people; reviewer/masking.py replaces them.

A word is *distinctive* when the document never writes it in lower case ("Northwind", "BrightPath" are;
"Data", "Cloud", "Grace" usually are not): one-word names must be distinctive, so masking never eats an
ordinary word.

Caught:
- the vendor: the names given (the job's vendor, a bulk --vendors mapping, a labels file), else the
  organisation with a legal-form suffix (Ltd, Inc., GmbH, LLC, S.A., ...) named most often, and the
  file name's words when the text writes them as a capitalised name ("acme_proposal.pdf" -> "Acme");
  each with the suffix dropped ("Acme Analytics") and its first word alone when that is distinctive
  ("BrightPath" of "BrightPath AI"), in any letter case;
- products: capitalised names marked ™ or ®, "our Nexus platform", "our document service, Northwind
  Sort", "Nexus, our analytics platform" (platform, suite, product, service, engine, model, ...);
- people: after a title (Mr, Ms, Dr, Prof, ...), "Jane Smith, Head of Delivery" (a name followed by a
  role), after a label ("Contact:", "Prepared by:", "Account manager:"), the name line under "Kind
  regards," / "Sincerely,"; then every other place the same full name (or titled surname) appears.
Not caught: first names alone ("Jane will lead"), names with no cue anywhere in the document, other
organisations than the vendor (sub-processors and clients stay: they matter to the grading), product
names written without a cue, all-lower-case names.
"""

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath


class NameKind(StrEnum):
    VENDOR = "vendor"
    PRODUCT = "product"
    PERSON = "person"


@dataclass(frozen=True)
class Name:
    kind: NameKind
    key: str  # one placeholder per (kind, key)
    forms: tuple[str, ...]  # every spelling masked, each matched on word boundaries
    ignore_case: bool = False


_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_CAP_WORD = rf"[{_UPPER}][\w&'’+-]*"
_NAME_WORD = (
    rf"(?:[{_UPPER}]'[{_UPPER}][{_LOWER}]+|[{_UPPER}][{_LOWER}]+(?:[{_UPPER}][{_LOWER}]+)?)(?:-[{_UPPER}][{_LOWER}]+)?"
)
_FULL_NAME = rf"{_NAME_WORD}(?:[ \t]+[{_UPPER}]\.)?(?:[ \t]+{_NAME_WORD}){{1,2}}"

_LEGAL_FORM = (
    r"(?:Inc\.?|Incorporated|Ltd\.?|Limited|LLC|L\.L\.C\.|LLP|GmbH|AG|S\.A\.S?\.?|SAS|S\.r\.l\.|S\.p\.A\.|SpA"
    r"|B\.V\.|BV|N\.V\.|NV|PLC|plc|Corp\.?|Corporation|Pty\.?[ ]Ltd\.?|Oy|AB|A/S|ApS|SE|Co\.)"
)
_ORGANISATION = re.compile(rf"((?:{_CAP_WORD}[ \t]+){{0,3}}{_CAP_WORD}),?[ \t]+{_LEGAL_FORM}(?![\w])")
_LEGAL_SUFFIX = re.compile(rf",?\s+{_LEGAL_FORM}\s*$")

# Words that end an organisation's name, in any capitalised spelling ("Services", "SERVICES").
_ORGANISATION_WORDS = (
    r"Services|Service|Systems|Solutions|Technologies|Technology|Tech|Labs|Lab|Laboratories|Group|Consulting"
    r"|Consultants|Consultancy|Analytics|Software|Partners|Holdings|Digital|Networks|Industries|International"
    r"|Global|Ventures|Studios|Studio|Works|Company|Intelligence|Research|Data|AI|Robotics|Dynamics|Innovations"
)

_PRODUCT_NOUNS = (
    r"platform|suite|product|solution|engine|service|software|system|app|application|tool|toolkit|model|cloud"
    r"|portal|api|assistant|framework|library|module|dashboard|agent|studio|hub"
)
_TRADEMARK = re.compile(rf"((?:{_CAP_WORD}[ ]){{0,3}}{_CAP_WORD})[ ]?(?:™|®|\((?:TM|R)\))")
_OUR_NAMED = re.compile(rf"\b[Oo]ur[ \t]+((?:{_CAP_WORD}[ \t]+){{0,2}}{_CAP_WORD})[ \t]+(?:{_PRODUCT_NOUNS})\b")
_OUR_NOUN_NAME = re.compile(
    rf"\b[Oo]ur[ \t]+(?:[\w-]+[ \t]+){{0,4}}(?:{_PRODUCT_NOUNS}),?[ \t]+(?:called[ \t]+|named[ \t]+)?"
    rf"((?:{_CAP_WORD}[ \t]+){{0,2}}{_CAP_WORD})"
)
_NAME_OUR_NOUN = re.compile(
    rf"((?:{_CAP_WORD}[ \t]+){{0,2}}{_CAP_WORD}),[ \t]+our[ \t]+(?:[\w-]+[ \t]+){{0,4}}(?:{_PRODUCT_NOUNS})\b"
)
_FUNCTION_WORDS = {"the", "a", "an", "our", "your", "its", "their", "with", "using", "new", "and", "by", "from"}

_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Dame)"
_ROLES = (
    r"(?:Chief|CEO|CTO|CFO|COO|CIO|CISO|CPO|CDO|DPO|Founder|Co-founder|Cofounder|President|Vice[ ]President|VP"
    r"|Director|Head|Manager|Lead|Partner|Principal|Officer|Engineer|Architect|Consultant|Scientist|Analyst"
    r"|Owner|Counsel|Secretary|Account|Project|Programme|Program|Delivery|Sales|Managing|Senior|Technical)\b"
)
_LABELS = (
    r"contact|contact person|contact name|name|signed|signed by|signature|signatory|prepared by|submitted by"
    r"|author|attn|attention|account manager|account executive|project manager|programme manager|project lead"
    r"|delivery lead|engagement lead|engagement manager|technical lead|representative|sponsor|owner"
)
_AFTER_TITLE = re.compile(rf"\b{_TITLES}\.?[ \t]+({_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}})")
_NAME_THEN_ROLE = re.compile(rf"(?<![\w])({_FULL_NAME})[ \t]*(?:,|\(|–|—|\||-)[ \t]*(?:the[ \t]+|our[ \t]+)?{_ROLES}")
_LABEL_THEN_NAME = re.compile(rf"(?i:\b(?:{_LABELS})[ \t]*[:：][ \t]*)({_FULL_NAME})\b")
_SIGNATURE = re.compile(
    rf"(?im:^[ \t]*(?:kind regards|best regards|warm regards|regards|sincerely|yours sincerely|yours faithfully"
    rf"|yours truly|on behalf of[^\n]*)[ \t]*,?[ \t]*\n[ \t]*)({_FULL_NAME})[ \t]*$",
    re.MULTILINE,
)
_FILE_WORDS_DROPPED = {
    "proposal",
    "response",
    "rfp",
    "rfi",
    "rfq",
    "tender",
    "bid",
    "offer",
    "submission",
    "final",
    "draft",
    "document",
    "vendor",
    "copy",
    "signed",
    "v",
}

# A word of running text: not part of an email address, a domain or a path ("omar.haddad@..." says nothing).
_LOWER_WORD = re.compile(rf"(?<![\w@./_-])[{_LOWER}][{_LOWER}'’-]*(?![\w@/_-]|\.\w)")


class Vocabulary:
    """The words a document writes in lower case somewhere: the test of whether a word is distinctive."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.lower = {m.group() for text in texts for m in _LOWER_WORD.finditer(text)}

    def distinctive(self, word: str) -> bool:
        return len(word) >= 3 and word.casefold() not in self.lower


def _words(name: str) -> list[str]:
    return re.findall(r"[\w'’&+-]+", name)


def _strip_leading(name: str, drop: set[str]) -> str:
    words = name.split()
    while words and words[0].casefold() in drop:
        words.pop(0)
    return " ".join(words)


def vendor_forms(name: str, vocabulary: Vocabulary) -> tuple[str, ...]:
    """The spellings of a vendor's name to mask: as given, without its legal form, its distinctive first word."""
    spelled = " ".join(name.split()).strip(" ,;:")
    full = spelled.rstrip(".")
    if not full:
        return ()
    forms = [spelled, full]  # "Acme Ltd." with its abbreviation's point, and without
    base = _LEGAL_SUFFIX.sub("", full).strip(" ,")
    if base and base != full:
        forms.append(base)
    words = base.split()
    if len(words) >= 2 and vocabulary.distinctive(words[0]) and re.fullmatch(r"[\w'’&-]+", words[0]):
        forms.append(words[0])
    return tuple(dict.fromkeys(forms))


def _organisations(texts: Sequence[str], vocabulary: Vocabulary) -> list[str]:
    """Names with a legal-form suffix ("Acme Analytics Ltd."), most mentioned first (the first mention breaks
    ties; the name said without its suffix counts too)."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    spelled: dict[str, str] = {}
    position = 0
    for text in texts:
        for match in _ORGANISATION.finditer(text):
            words = match.group(1).split()
            while words and not vocabulary.distinctive(words[0]) and len(words) > 1:
                words.pop(0)
            if not words or not any(vocabulary.distinctive(w) for w in words):
                continue
            base = " ".join(words)
            counts[base] += 1
            first.setdefault(base, position + match.start())
            suffix = match.group()[len(match.group(1)) :]
            spelled.setdefault(base, base + suffix)
        position += len(text) + 1
    for base in list(counts):  # the base alone counts too ("Acme" said without its "Ltd")
        counts[base] += sum(len(re.findall(rf"(?<![\w]){re.escape(base)}(?![\w])", t)) for t in texts) - counts[base]
    return [spelled[b] for b in sorted(counts, key=lambda b: (-counts[b], first[b]))]


def _from_file_name(file_name: str, texts: Sequence[str]) -> str | None:
    """'acme_analytics-proposal_v2.pdf' -> 'Acme Analytics', when the text writes it as a capitalised name."""
    words = [w for w in re.split(r"[\s_.\-]+", PurePath(file_name).stem) if w]
    words = [w for w in words if w.casefold() not in _FILE_WORDS_DROPPED and not any(c.isdigit() for c in w)]
    if not words:
        return None
    pattern = re.compile(r"(?<![\w])" + r"[ \t]+".join(re.escape(w) for w in words) + r"(?![\w])", re.IGNORECASE)
    for text in texts:
        for match in pattern.finditer(text):
            if all(w[:1].isupper() for w in match.group().split()):
                return " ".join(match.group().split())
    return None


def find_vendor(
    texts: Sequence[str], vendor_names: Sequence[str], file_name: str, vocabulary: Vocabulary
) -> Name | None:
    given = [n for n in vendor_names if n and n.strip()]
    if not given:
        organisations = _organisations(texts, vocabulary)
        given = organisations[:1]
        from_file = _from_file_name(file_name, texts)
        if from_file:
            given.append(from_file)
    forms: list[str] = []
    for name in given:
        forms += vendor_forms(name, vocabulary)
    if not forms:
        return None
    forms += _with_organisation_words(forms, texts)
    return Name(NameKind.VENDOR, "vendor", tuple(dict.fromkeys(forms)), ignore_case=True)


def _with_organisation_words(forms: Sequence[str], texts: Sequence[str]) -> list[str]:
    """The vendor's name as the text writes it with one or two capitalised words of an organisation's name
    after it ("Coral Data" -> "Coral Data Services", "ACME AI LABS"): masked whole, not leaving "[VENDOR]
    Services" to say who it is."""
    found: list[str] = []
    tail = rf"((?:[ \t]+(?:{_ORGANISATION_WORDS})){{1,2}})(?![\w])"
    for form in forms:
        pattern = re.compile(rf"(?<![\w]){re.escape(form)}{tail}", re.IGNORECASE)
        for text in texts:
            for match in pattern.finditer(text):
                words = match.group(1).split()
                if all(w[:1].isupper() for w in words):
                    found.append(" ".join(match.group().split()))
    return sorted(set(found), key=len, reverse=True)


def _product_ok(name: str, vocabulary: Vocabulary, vendor: Name | None) -> bool:
    if vendor and name.casefold() in {f.casefold() for f in vendor.forms}:
        return False
    return any(len(w) >= 4 and vocabulary.distinctive(w) for w in _words(name))


def find_products(texts: Sequence[str], vocabulary: Vocabulary, vendor: Name | None) -> list[Name]:
    found: dict[str, str] = {}
    for text in texts:
        for match in _TRADEMARK.finditer(text):
            name = _strip_leading(match.group(1), _FUNCTION_WORDS)
            if name and not (vendor and name.casefold() in {f.casefold() for f in vendor.forms}):
                found.setdefault(name.casefold(), name)
        for pattern in (_OUR_NAMED, _OUR_NOUN_NAME, _NAME_OUR_NOUN):
            for match in pattern.finditer(text):
                name = _strip_leading(" ".join(match.group(1).split()), _FUNCTION_WORDS)
                if name and _product_ok(name, vocabulary, vendor):
                    found.setdefault(name.casefold(), name)
    return [Name(NameKind.PRODUCT, key, _product_forms(name, vocabulary, vendor)) for key, name in found.items()]


def _product_forms(name: str, vocabulary: Vocabulary, vendor: Name | None) -> tuple[str, ...]:
    """A product named after its vendor ("BrightPath Nexus") is also masked by the rest of its name ("Nexus")
    when that is distinctive."""
    words = name.split()
    if vendor and len(words) >= 2 and words[0].casefold() in {f.casefold() for f in vendor.forms}:
        rest = " ".join(words[1:])
        if any(len(w) >= 4 and vocabulary.distinctive(w) for w in _words(rest)):
            return (name, rest)
    return (name,)


def find_people(texts: Sequence[str], vocabulary: Vocabulary, excluded: Iterable[str]) -> list[Name]:
    taken = {e.casefold() for e in excluded}
    full_names: dict[str, str] = {}
    surnames: dict[str, str] = {}

    def consider(name: str) -> None:
        name = " ".join(name.split())
        words = name.split()
        if name.casefold() in taken or any(w.casefold() in taken for w in words):
            return
        if not any(vocabulary.distinctive(w) for w in words if not w.endswith(".")):
            return
        if len(words) == 1:
            surnames.setdefault(name.casefold(), name)
        else:
            full_names.setdefault(name.casefold(), name)

    for text in texts:
        for pattern in (_NAME_THEN_ROLE, _LABEL_THEN_NAME, _SIGNATURE, _AFTER_TITLE):
            for match in pattern.finditer(text):
                consider(match.group(1))
    by_surname = {full.split()[-1].casefold(): key for key, full in full_names.items()}
    forms: dict[str, list[str]] = {key: [name] for key, name in full_names.items()}
    for key, surname in surnames.items():
        forms.setdefault(by_surname.get(key, key), []).append(surname)
    return [Name(NameKind.PERSON, key, tuple(names)) for key, names in forms.items()]


def find_names(
    texts: Sequence[str],
    *,
    kinds: frozenset[NameKind],
    vendor_names: Sequence[str] = (),
    file_name: str = "",
) -> list[Name]:
    """The names of the given kinds in a document (its pages' texts), vendor first."""
    vocabulary = Vocabulary(texts)
    vendor = find_vendor(texts, vendor_names, file_name, vocabulary) if NameKind.VENDOR in kinds else None
    products = find_products(texts, vocabulary, vendor) if NameKind.PRODUCT in kinds else []
    excluded = [*(vendor.forms if vendor else ()), *(f for p in products for f in p.forms)]
    people = find_people(texts, vocabulary, excluded) if NameKind.PERSON in kinds else []
    return [*([vendor] if vendor else []), *products, *people]
