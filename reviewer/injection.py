"""Spotting text in a proposal that tries to instruct the reviewer. Applied to every review whatever
the backend, beside what a model itself reports: such passages are reported, and never count as
evidence.

Proposals talk about AI, models and evaluation all the time, so the cues are about addressing the
reader, not about the topic: an override of instructions, a note to an AI or automated reviewer, a
spoofed role or tag, or a request that this very proposal be graded a certain way. Text is normalised
first (NFKC, zero-width characters dropped, Cyrillic and Greek look-alikes read as Latin), so a
fullwidth tag or a Cyrillic "Ignоre" reads like the plain one. tests/data/injection_labelled.jsonl
measures it (bench/injection.py prints the figures).
"""

import re
import unicodedata

from reviewer.documents import Document
from reviewer.passages import Passage, split_passages

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u00ad"))
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁԛԝһӏАВЕКМНОРСТХІЈЅԜαβεικνορτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwhlABEKMHOPCTXIJSWabeiknoptuxABEZHIKMNOPTYX",
)


def normalise_for_matching(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).translate(_CONFUSABLES)
    return re.sub(r"\s+", " ", text)


_READER = (
    r"(?:ai|a\.i\.|llm|large language model|language model|assistant|chatbot|gpt|claude|model|automated|"
    r"machine|review(?:er|ing)? (?:system|tool|model|agent)|reviewer|evaluator|grader|scorer|agent)s?"
)
_OVERRIDE = re.compile(
    r"(?<!not )(?<!never )\b(?:ignore|disregard|forget|override|bypass|set aside|skip|drop|discard)\s+"
    r"(?:all\s+|any\s+|every\s+)?(?:of\s+)?"
    r"(?:(?:the|your|these|those|previous|prior|above|earlier|preceding|foregoing|other|existing|original|"
    r"system|initial|old)\s+)+(?:[\w-]+\s+){0,2}"
    r"(?:instructions?|prompts?|rules|guidelines|guidance|criteria|rubric|checklist|system message|directions?|"
    r"directives?|commands?|context)\b"
    r"|\b(?:forget|disregard|ignore)\s+(?:everything|all|what(?:ever)?)\s+(?:you\s+(?:were|have been|are)\s+"
    r"(?:told|given|instructed)|(?:written\s+)?(?:above|before|so far|earlier))",
    re.IGNORECASE,
)
_ADDRESSING_READER = re.compile(
    rf"\b(?:(?:note|message|instructions?|attention|memo|notice)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?"
    rf"(?:{_READER}\s*)+|if\s+you\s+are\s+(?:an?\s+)?(?:{_READER}\s*)+|dear\s+(?:{_READER}\s*)+|"
    rf"(?:ai|llm|automated)\s+(?:reviewers?|evaluators?|graders?|systems?|assistants?|agents?)\s*[,:])",
    re.IGNORECASE,
)
_SPOOFED_ROLE = re.compile(
    r"<\s*/?\s*(?:document|page|system|assistant|user|instructions?|prompt)\s*>"
    r"|\[\s*/?\s*(?:system|inst|assistant|admin|sys)\s*\]|<\|\s*(?:im_start|im_end|system|endoftext)\s*\|>"
    r"|\b(?:important|urgent|critical|mandatory)\s+(?:system|admin(?:istrator)?|security)\s+"
    r"(?:notice|message|override|instructions?|update|alert)\b"
    r"|\bsystem\s+(?:override|notice|instructions?|message)\s*[:!-]"
    r"|\byou\s+are\s+now\s+(?:an?\b|the\b|in\b|acting|operating|playing|no\s+longer)"
    r"|\bfrom\s+now\s+on,?\s+you\s+(?:are|will|must|shall)\b"
    r"|\b(?:new|updated|revised|real|actual)\s+(?:system\s+)?instructions?\s*[:-]"
    r"|\b(?:follow|obey)\s+(?:only\s+)?(?:these|the following|my|the new|the instructions below)\b",
    re.IGNORECASE,
)
_GRADE_WORDS = (
    r"(?:as\s+)?[\"'“]?(?:met|fully met|compliant|fully compliant|passing|pass(?:ed)?|highest|maximum|top|perfect|"
    r"full marks|excellent|10/10|100(?:\s*/\s*100|%)?|red[_ ]flag-free|meeting all)\b"
)
_SELF_GRADING = re.compile(
    r"\b(?:grade|rate|score|mark|classify|treat|record|evaluate|assess|consider)\b[^.]{0,40}?"
    r"\b(?:this|the|our)\s+(?:proposal|document|submission|response|bid|vendor|section|company)\b[^.]{0,60}?"
    rf"\b(?:as|with|at)\s+{_GRADE_WORDS}"
    rf"|\b(?:grade|rate|score|mark)\s+(?:every|all|each)\s+(?:of\s+the\s+)?(?:criteri(?:on|a)|requirements?|items?|"
    rf"sections?)\s+{_GRADE_WORDS}"
    rf"|\b{_READER}\b[^.]{{0,40}}?\b(?:must|should|shall|will|is to|are to|needs? to|has to|have to)\s+"
    rf"(?:grade|rate|score|mark|assess|evaluate|consider)\b[^.]{{0,60}}?{_GRADE_WORDS}"
    r"|\b(?:give|award|assign)\s+(?:this\s+(?:proposal|submission|vendor|bid)|us|it)\s+(?:a\s+)?"
    r"(?:score\s+of\s+)?(?:100|full marks|the (?:highest|maximum|top) (?:score|grade|rating))",
    re.IGNORECASE,
)
_OTHER_LANGUAGES = re.compile(
    r"\b(?:ignoriere|ignorieren\s+sie|vergiss|vergessen\s+sie|missachte|missachten\s+sie)\b[^.]{0,40}?"
    r"\b(?:anweisungen|instruktionen|regeln|vorgaben|befehle)\b"
    r"|\b(?:ignorez|ignore|oubliez|oublie|ne\s+tenez\s+pas\s+compte\s+des)\b[^.]{0,40}?"
    r"\b(?:instructions|consignes|directives|règles)\b"
    r"|\b(?:ignora|ignore|ignorad|olvida|olvide|olvidad)\b[^.]{0,40}?\b(?:instrucciones|indicaciones|reglas)\b",
    re.IGNORECASE,
)
_PATTERNS = (_OVERRIDE, _ADDRESSING_READER, _SPOOFED_ROLE, _SELF_GRADING, _OTHER_LANGUAGES)


def looks_like_injection(text: str) -> bool:
    normalised = normalise_for_matching(text)
    return any(p.search(normalised) for p in _PATTERNS)


def find_injection_passages(document: Document, passages: list[Passage] | None = None) -> list[Passage]:
    candidates = passages if passages is not None else split_passages(document)
    return [p for p in candidates if looks_like_injection(p.text)]


_TAG_LOOKALIKE = re.compile(
    r"[<\uff1c\ufe64\u2329\u3008]\s*([/\uff0f]?\s*(?:document|page|ｄｏｃｕｍｅｎｔ|ｐａｇｅ))", re.IGNORECASE
)


def neutralise_markup(text: str) -> str:
    """Page text cannot close our <page>/<document> elements: look-alike tags (with spaces, fullwidth
    brackets or letters) lose their '<'."""
    return _TAG_LOOKALIKE.sub(r"‹\1", text)
