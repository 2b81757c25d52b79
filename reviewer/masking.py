"""What a model is sent, masked: blind model input and redaction of personal data, one mechanism.

Each distinct item found (reviewer/names.py, reviewer/personal_data.py) gets one placeholder for the whole
document, the same everywhere it appears: "[VENDOR]", "[PRODUCT-1]", "[PERSON-2]", "[EMAIL-1]", "[PHONE-1]",
"[URL-1]", "[IBAN-1]", "[ID-1]". The backend grades the masked Document; its answer is then restored: a
quote is located in the masked page text (what was sent) and each placeholder in it becomes the exact words
it stood for at that place, so the pipeline verifies the original words against the original page and
stores their real offsets; rationales, questions and the vendor name get the placeholders restored.

A vendor's file may already contain text that looks like a placeholder: then another bracket style is
used (and, past those, one with a suffix derived from the document's own text), so nothing the document
says can be "restored" into something else.

- Blind (`--blind`, a rubric's `blind: true`, REVIEWER_BLIND): every kind, whatever the backend.
- Personal data (emails, phones, IBANs, national ids): on for every backend that sends the document out
  (not the offline grader), unless REVIEWER_REDACT_PERSONAL_DATA=false.
"""

import hashlib
import re
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import PurePath

from pydantic import BaseModel, ConfigDict

from reviewer.citations import QuoteLocator
from reviewer.config import GradingSettings
from reviewer.documents import Document, Page
from reviewer.grading.base import RawGrading
from reviewer.notices import ReviewWarning


class MaskKind(StrEnum):
    VENDOR = "vendor"
    PRODUCT = "product"
    PERSON = "person"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    IBAN = "iban"
    NATIONAL_ID = "national_id"


LABELS: dict[MaskKind, str] = {
    MaskKind.VENDOR: "VENDOR",
    MaskKind.PRODUCT: "PRODUCT",
    MaskKind.PERSON: "PERSON",
    MaskKind.EMAIL: "EMAIL",
    MaskKind.PHONE: "PHONE",
    MaskKind.URL: "URL",
    MaskKind.IBAN: "IBAN",
    MaskKind.NATIONAL_ID: "ID",
}
PERSONAL_DATA = frozenset({MaskKind.EMAIL, MaskKind.PHONE, MaskKind.IBAN, MaskKind.NATIONAL_ID})
BLIND = frozenset(MaskKind)
# The finders' kinds by value (reviewer.names, reviewer.personal_data: imported when a document is masked,
# so a review that masks nothing never compiles their patterns).
_NAME_KINDS = frozenset({MaskKind.VENDOR, MaskKind.PRODUCT, MaskKind.PERSON})
_DATA_KINDS = frozenset({MaskKind.EMAIL, MaskKind.URL, MaskKind.PHONE, MaskKind.IBAN, MaskKind.NATIONAL_ID})
# Where two finds overlap, the first kind here wins ("jane@acme.com" is an email, not the vendor's name);
# among names, the longer find ("Northwind Sort" the product over "Northwind" the vendor).
_PRECEDENCE = [MaskKind.EMAIL, MaskKind.URL, MaskKind.IBAN, MaskKind.NATIONAL_ID, MaskKind.PHONE]
# Bracket styles in order of preference; a document containing a placeholder-like text in one gets the next.
_BRACKETS = [("[", "]"), ("⟦", "⟧"), ("⟪", "⟫"), ("{{", "}}")]
_ANY_LABEL = "|".join(LABELS.values())
BLIND_FILE_STEM = "proposal"


class MaskingPolicy(BaseModel):
    """What to mask in what a backend is sent."""

    model_config = ConfigDict(frozen=True)

    blind: bool = False
    redact_personal_data: bool = True
    vendor_names: tuple[str, ...] = ()

    @classmethod
    def from_settings(
        cls, settings: GradingSettings, *, blind: bool = False, vendor_names: Sequence[str] = ()
    ) -> "MaskingPolicy":
        """The server's or the command's policy: blind if asked or set (REVIEWER_BLIND), redaction as set."""
        return cls(
            blind=blind or settings.blind,
            redact_personal_data=settings.redact_personal_data,
            vendor_names=tuple(n.strip() for n in vendor_names if n and n.strip()),
        )

    def kinds(self, *, offline: bool) -> frozenset[MaskKind]:
        if self.blind:
            return BLIND
        if self.redact_personal_data and not offline:  # the offline grader sends nothing anywhere
            return PERSONAL_DATA
        return frozenset()

    def with_vendor(self, *names: str | None) -> "MaskingPolicy":
        given = tuple(n.strip() for n in names if n and n.strip())
        return self.model_copy(update={"vendor_names": given + self.vendor_names}) if given else self


@dataclass(frozen=True)
class Replacement:
    start: int  # in the original page text
    end: int
    masked_start: int  # in the masked page text
    masked_end: int
    placeholder: str
    kind: MaskKind


@dataclass(frozen=True)
class _Find:
    start: int
    end: int
    kind: MaskKind
    key: str


@dataclass
class MaskedDocument:
    """The document as sent, and what is needed to map a model's answer back to the original."""

    original: Document
    document: Document
    blind: bool
    replacements: dict[int, list[Replacement]]  # page number -> in page order
    originals: dict[str, str]  # placeholder -> the words it stands for (its first occurrence's)
    items: Counter[MaskKind] = field(default_factory=Counter)  # distinct items per kind
    token: re.Pattern[str] = field(default_factory=lambda: re.compile(r"(?!)"))

    def __post_init__(self) -> None:
        self._by_upper = {p.upper(): text for p, text in self.originals.items()}

    @cached_property
    def _locator(self) -> QuoteLocator:  # built only when a quote carries a placeholder
        return QuoteLocator(self.document)

    @property
    def occurrences(self) -> int:
        return sum(len(r) for r in self.replacements.values())

    def to_original_span(self, page: int, masked_start: int, masked_end: int) -> tuple[int, int]:
        """A span of the masked page text as a span of the original page text."""
        return _to_original(self.replacements.get(page, []), masked_start, "start"), _to_original(
            self.replacements.get(page, []), masked_end, "end"
        )

    def to_masked_span(self, page: int, start: int, end: int) -> tuple[int, int]:
        """A span of the original page text as a span of the masked page text; a span cutting into a masked
        item grows to its whole placeholder."""
        replacements = self.replacements.get(page, [])
        return _to_masked(replacements, start), _to_masked(replacements, end, "end")

    def restore_text(self, text: str) -> str:
        """Placeholders in a model's prose replaced by what they stand for (unknown ones are left)."""
        return self.token.sub(lambda m: self._by_upper.get(m.group().upper(), m.group()), text)

    def restore_quote(self, page: int, quote: str) -> str:
        """A model's quote of the masked text, in the original words: located in the masked page text, each
        placeholder in it becomes what it replaced at that place."""
        if not self.token.search(quote):
            return quote
        located = self._locator.locate(page, quote)
        if not located.verified or located.start is None or located.end is None:
            return self.restore_text(quote)
        here: dict[str, deque[str]] = {}
        original_text = next(p.text for p in self.original.pages if p.number == located.page)
        for r in self.replacements.get(located.page, []):
            if located.start <= r.masked_start and r.masked_end <= located.end:
                here.setdefault(r.placeholder.upper(), deque()).append(original_text[r.start : r.end])

        def original(match: re.Match[str]) -> str:
            waiting = here.get(match.group().upper())
            if waiting:
                return waiting.popleft()
            return self._by_upper.get(match.group().upper(), match.group())

        return self.token.sub(original, quote)

    def restore_grading(self, raw: RawGrading) -> RawGrading:
        text = self.restore_text
        findings = [
            f.model_copy(
                update={
                    "rationale": text(f.rationale),
                    "clarification_question": text(f.clarification_question) if f.clarification_question else None,
                    "citations": [
                        c.model_copy(update={"quote": self.restore_quote(c.page, c.quote)}) for c in f.citations
                    ],
                }
            )
            for f in raw.findings
        ]
        return raw.model_copy(
            update={
                "findings": findings,
                "failures": [f.model_copy(update={"reason": text(f.reason)}) for f in raw.failures],
                "injection_reports": [
                    r.model_copy(update={"quote": self.restore_quote(r.page, r.quote)}) for r in raw.injection_reports
                ],
                "vendor_name": text(raw.vendor_name) if raw.vendor_name else raw.vendor_name,
                "details": {k: text(v) for k, v in raw.details.items()},
                "warnings": [w.model_copy(update={"message": text(w.message)}) for w in raw.warnings],
            }
        )

    def warnings(self) -> list[ReviewWarning]:
        found = []
        pages = sorted(n for n, r in self.replacements.items() if r)
        if self.blind:
            named = Counter({k: n for k, n in self.items.items() if k not in PERSONAL_DATA})
            found.append(
                ReviewWarning(
                    code="blind_model_input",
                    message=f"blind model input: {_counted(named, 'name or address', 'names and addresses')} "
                    "were replaced by placeholders such as [VENDOR] before the document was sent to the model, "
                    "and restored in this report; the grades were given without knowing who the vendor is",
                    pages=pages,
                )
            )
        personal = Counter({k: n for k, n in self.items.items() if k in PERSONAL_DATA})
        if personal:
            found.append(
                ReviewWarning(
                    code="personal_data_redacted",
                    message="personal data redacted from what was sent to the model: "
                    f"{_counted(personal, 'item', 'items')}, replaced by placeholders and restored in this report",
                    pages=pages,
                )
            )
        return found


def _counted(items: Counter[MaskKind], one: str, many: str) -> str:
    total = sum(items.values())
    if not total:
        return f"no {many}"
    detail = ", ".join(f"{kind.value.replace('_', ' ')} {n}" for kind, n in sorted(items.items()))
    return f"{total} {one if total == 1 else many} ({detail})"


def _to_original(replacements: list[Replacement], masked: int, side: str) -> int:
    """An offset of the masked text in the original; inside a placeholder, the start (or end) of what it replaced."""
    shift = 0
    for r in replacements:
        if masked <= r.masked_start:
            break
        if masked < r.masked_end:
            return r.start if side == "start" else r.end
        shift = r.end - r.masked_end
    return masked + shift


def _to_masked(replacements: list[Replacement], original: int, side: str = "start") -> int:
    shift = 0
    for r in replacements:
        if original <= r.start:
            break
        if original < r.end:
            return r.masked_start if side == "start" else r.masked_end
        shift = r.masked_end - r.end
    return original + shift


def _brackets(texts: Sequence[str]) -> tuple[str, str]:
    for opening, closing in _BRACKETS:
        pattern = re.compile(rf"{re.escape(opening)}\s*(?:{_ANY_LABEL})\b", re.IGNORECASE)
        if not any(pattern.search(t) for t in texts):
            return opening, closing
    # A file carrying every style: a suffix it cannot contain, since it is derived from the file's own text.
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:6]
    return "[", f"~{digest}]"


def _name_finds(text: str, names, kinds: frozenset[MaskKind]) -> list[_Find]:
    finds = []
    for name in names:
        kind = MaskKind(name.kind.value)
        if kind not in kinds:
            continue
        forms = sorted(name.forms, key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(re.escape(w) for w in f.split()) for f in forms)
        pattern = re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE if name.ignore_case else 0)
        finds += [_Find(m.start(), m.end(), kind, name.key) for m in pattern.finditer(text)]
    return finds


def _choose(finds: list[_Find]) -> list[_Find]:
    """Non-overlapping finds: by kind precedence, then the longer, then the earlier."""

    def rank(f: _Find) -> tuple[int, int, int]:
        order = _PRECEDENCE.index(f.kind) if f.kind in _PRECEDENCE else len(_PRECEDENCE)
        return order, -(f.end - f.start), f.start

    starts: list[int] = []
    chosen: list[_Find] = []
    for find in sorted(finds, key=rank):
        i = bisect_right(starts, find.start)
        if i > 0 and chosen[i - 1].end > find.start:
            continue
        if i < len(chosen) and chosen[i].start < find.end:
            continue
        starts.insert(i, find.start)
        chosen.insert(i, find)
    return chosen


def mask_document(
    document: Document, kinds: frozenset[MaskKind], *, vendor_names: Sequence[str] = ()
) -> MaskedDocument:
    """The document with every item of `kinds` replaced by its placeholder."""
    from reviewer.names import NameKind, find_names
    from reviewer.personal_data import DataKind, find_personal_data

    texts = [p.text for p in document.pages]
    opening, closing = _brackets([*texts, document.file_name])
    names = find_names(
        texts,
        kinds=frozenset(NameKind(k.value) for k in kinds & _NAME_KINDS),
        vendor_names=vendor_names,
        file_name=document.file_name,
    )
    data_kinds = frozenset(DataKind(k.value) for k in kinds & _DATA_KINDS)
    vendor_text = next((n.forms[0] for n in names if n.kind is NameKind.VENDOR), None)

    numbers: dict[tuple[MaskKind, str], str] = {}
    per_kind: Counter[MaskKind] = Counter()
    originals: dict[str, str] = {}
    replacements: dict[int, list[Replacement]] = {}
    pages: list[Page] = []
    for page in document.pages:
        finds = _name_finds(page.text, names, kinds)
        finds += [
            _Find(s.start, s.end, MaskKind(s.kind.value), s.key) for s in find_personal_data(page.text, data_kinds)
        ]
        pieces, cursor, masked_length, done = [], 0, 0, []
        for find in _choose(finds):
            identity = (find.kind, find.key)
            if identity not in numbers:
                per_kind[find.kind] += 1
                label = LABELS[find.kind]
                suffix = "" if find.kind is MaskKind.VENDOR else f"-{per_kind[find.kind]}"
                numbers[identity] = f"{opening}{label}{suffix}{closing}"
                originals[numbers[identity]] = page.text[find.start : find.end]
            placeholder = numbers[identity]
            kept = page.text[cursor : find.start]
            pieces += [kept, placeholder]
            masked_start = masked_length + len(kept)
            masked_length = masked_start + len(placeholder)
            done.append(Replacement(find.start, find.end, masked_start, masked_length, placeholder, find.kind))
            cursor = find.end
        pieces.append(page.text[cursor:])
        replacements[page.number] = done
        furniture = [(_to_masked(done, s), _to_masked(done, e)) for s, e in page.furniture]
        pages.append(page.model_copy(update={"text": "".join(pieces), "furniture": furniture}))
    vendor_placeholder = f"{opening}{LABELS[MaskKind.VENDOR]}{closing}"
    if vendor_text and vendor_placeholder in originals:
        originals[vendor_placeholder] = vendor_text  # the name as given, not whichever spelling came first
    blind = kinds == BLIND
    file_name = document.file_name
    if blind:
        file_name = BLIND_FILE_STEM + PurePath(document.file_name).suffix
    masked_text = "\f".join(p.text for p in pages)
    sent = document.model_copy(
        update={
            "pages": pages,
            "file_name": file_name,
            "sha256": hashlib.sha256(masked_text.encode()).hexdigest() if originals else document.sha256,
            "placeholders": list(originals),
            "vendor_placeholder": vendor_placeholder if vendor_placeholder in originals else None,
        }
    )
    labels = "|".join(re.escape(label) for label in LABELS.values())
    token = re.compile(rf"{re.escape(opening)}(?:{labels})(?:-\d+)?{re.escape(closing)}", re.IGNORECASE)
    return MaskedDocument(
        original=document,
        document=sent,
        blind=blind,
        replacements=replacements,
        originals=originals,
        items=per_kind,
        token=token,
    )


def model_input(document: Document, policy: MaskingPolicy, *, offline: bool) -> MaskedDocument | None:
    """What a backend is sent under `policy`; None when nothing is to be masked."""
    kinds = policy.kinds(offline=offline)
    if not kinds:
        return None
    masked = mask_document(document, kinds, vendor_names=policy.vendor_names)
    if not masked.blind and not masked.occurrences:
        return None  # nothing to redact: the backend gets the document itself
    return masked
