"""Short hypotheses for an entailment model, taken from a rubric's own guidance text.

A guidance text lists alternatives ("Withholds code, weights or the pipeline as the vendor's proprietary
assets, or offers handover only at extra, unspecified cost."); each alternative becomes one hypothesis,
and one that starts with a verb gets the vendor as its subject ("The vendor withholds code, ..."), so an
NLI model reads a statement, not a fragment. Works on any rubric: nothing is written per criterion.
"""

import re

SUBJECT = "The vendor"
MIN_WORDS = 4
_SPLIT = re.compile(r";\s+|\.\s+(?=[A-Z])|,\s+or\s+(?=[a-z]+s\b|is\b)|\s+or\s+(?=is\b)")
_VERB = re.compile(r"^(?:or |and )?([a-z]+s|is|are)\b")
_NOT_VERBS = ("this ", "its ", "was ", "thus ", "as ")


def hypotheses(guidance: str, subject: str = SUBJECT) -> list[str]:
    """The alternatives a guidance text states, each as a sentence; the whole text when it has none."""
    text = " ".join(guidance.split())
    out = []
    for clause in _SPLIT.split(text):
        clause = clause.strip(" .,;")
        lowered = clause[:1].lower() + clause[1:]
        verb = _VERB.match(lowered)
        if verb and not lowered.startswith(_NOT_VERBS):
            clause = f"{subject} {lowered[verb.start(1) :]}"
        if len(clause.split()) >= MIN_WORDS:
            out.append(clause + ".")
    return out or ([text] if text else [])
