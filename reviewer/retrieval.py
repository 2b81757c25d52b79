"""Lexical retrieval (Okapi BM25) over passages, with a light stemmer. No network, deterministic."""

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself nor of off on once only or other ought our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why with would you your yours yourself
    yourselves will shall may might must also e.g i.e etc per via""".split()
)
_SUFFIXES = (
    "ational",
    "ations",
    "ation",
    "ings",
    "ing",
    "ments",
    "ment",
    "ies",
    "ied",
    "ness",
    "ers",
    "er",
    "ed",
    "es",
    "ly",
    "s",
)


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            base = word[: -len(suffix)]
            return base + "y" if suffix in ("ies", "ied") else base
    return word


def tokenize(text: str, *, keep_stopwords: bool = False) -> list[str]:
    words = []
    for w in _WORD.findall(text.lower()):
        for part in w.split("-"):
            if part and (keep_stopwords or part not in STOPWORDS):
                words.append(stem(part.replace("'", "")))
    return words


def words_for_terms(texts: Sequence[str], terms: set[str] | frozenset[str]) -> list[str]:
    """The words of `texts`, as written (lower-cased), whose stems are among `terms`: a readable form of
    matched stems, one word per stem, in order of first appearance."""
    found: dict[str, str] = {}
    for text in texts:
        for w in _WORD.findall(text.lower()):
            for part in w.split("-"):
                term = stem(part.replace("'", ""))
                if term in terms and term not in found:
                    found[term] = part
    return list(found.values())


@dataclass(frozen=True)
class Hit:
    index: int
    score: float


class BM25Index:
    def __init__(self, texts: Sequence[str], k1: float = 1.4, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.docs = [Counter(tokenize(t)) for t in texts]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg_length = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def score(self, query_terms: Counter[str], index: int) -> float:
        doc, length = self.docs[index], self.lengths[index]
        norm = self.k1 * (1 - self.b + self.b * length / (self.avg_length or 1))
        total = 0.0
        for term, weight in query_terms.items():
            tf = doc.get(term)
            if tf:
                total += weight * self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
        return total

    def search(self, query_terms: Counter[str], top_k: int | None = None) -> list[Hit]:
        hits = [Hit(i, s) for i in range(len(self.docs)) if (s := self.score(query_terms, i)) > 0]
        hits.sort(key=lambda h: (-h.score, h.index))
        return hits[:top_k] if top_k else hits
