"""Requirement extraction from RFPs: recall and precision per RFP against hand-made lists.

    python -m bench.rfp_extraction              # the offline extractor on samples/rfps/*.pdf
    python -m bench.rfp_extraction --show       # and what was missed / found in excess

A gold requirement is found when an extracted requirement has at least MATCH_SHARE of its words
(each extracted requirement matches at most one gold one, best match first). Precision is the share
of extracted requirements that match a gold one; strength agreement is over the matched pairs.
Totals are given apart for the RFPs the rules were adjusted on and for the held-out ones (written
after the rules were frozen; `held_out: true` in their gold file).
"""

import argparse
from pathlib import Path

import yaml
from pydantic import BaseModel

from reviewer.documents import read_document
from reviewer.requirements.checks import words
from reviewer.requirements.models import Requirement
from reviewer.requirements.offline import extract_offline

RFPS = Path(__file__).resolve().parent.parent / "samples" / "rfps"
MATCH_SHARE = 0.75


class GoldRequirement(BaseModel):
    ref: str | None
    strength: str
    text: str


class Score(BaseModel):
    rfp: str
    gold: int
    extracted: int
    matched: int
    strength_agrees: int
    missed: list[str]
    excess: list[str]

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.extracted if self.extracted else 1.0


def load_gold(path: Path) -> tuple[bool, list[GoldRequirement]]:
    """(held out, the requirements): a held-out RFP was written after the rules were frozen."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return bool(raw.get("held_out")), [GoldRequirement.model_validate(r) for r in raw["requirements"]]


def share(gold: GoldRequirement, found: Requirement) -> float:
    wanted = words(gold.text)
    return len(wanted & words(found.text)) / len(wanted)


def score(rfp: str, gold: list[GoldRequirement], found: list[Requirement]) -> Score:
    pairs = sorted(((share(g, f), gi, fi) for gi, g in enumerate(gold) for fi, f in enumerate(found)), reverse=True)
    gold_used: dict[int, int] = {}
    found_used: set[int] = set()
    for value, gi, fi in pairs:
        if value < MATCH_SHARE:
            break
        if gi in gold_used or fi in found_used:
            continue
        gold_used[gi] = fi
        found_used.add(fi)
    return Score(
        rfp=rfp,
        gold=len(gold),
        extracted=len(found),
        matched=len(gold_used),
        strength_agrees=sum(gold[gi].strength == found[fi].strength for gi, fi in gold_used.items()),
        missed=[g.text for i, g in enumerate(gold) if i not in gold_used],
        excess=[f.text for i, f in enumerate(found) if i not in found_used],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list missed and excess requirements")
    args = parser.parse_args()
    totals: dict[bool, list[int]] = {False: [0, 0, 0], True: [0, 0, 0]}
    print(f"{'RFP':42} {'gold':>5} {'found':>6} {'recall':>7} {'precision':>10} {'strength':>9}")
    for gold_path in sorted(RFPS.glob("*.gold.yaml")):
        pdf = RFPS / f"{gold_path.name.removesuffix('.gold.yaml')}.pdf"
        held_out, gold = load_gold(gold_path)
        extraction = extract_offline(read_document(pdf.read_bytes(), pdf.name))
        result = score(pdf.name, gold, extraction.requirements)
        for i, value in enumerate((result.gold, result.extracted, result.matched)):
            totals[held_out][i] += value
        agreement = result.strength_agrees / result.matched if result.matched else 0.0
        name = f"{pdf.name}{' (held out)' if held_out else ''}"
        print(
            f"{name:42} {result.gold:5} {result.extracted:6} {result.recall:7.2f} {result.precision:10.2f}"
            f" {agreement:9.2f}"
        )
        if args.show:
            for text in result.missed:
                print(f"    missed: {text}")
            for text in result.excess:
                print(f"    excess: {text}")
    for held_out, label in ((False, "rules written against (micro)"), (True, "held out (micro)")):
        gold_n, found_n, matched = totals[held_out]
        if gold_n:
            recall, precision = matched / gold_n, matched / found_n if found_n else 1.0
            print(f"{label:42} {gold_n:5} {found_n:6} {recall:7.2f} {precision:10.2f}")


if __name__ == "__main__":
    main()
