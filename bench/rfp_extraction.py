"""Requirement extraction from RFPs: recall and precision per RFP against hand-made lists.

    python -m bench.rfp_extraction              # the offline extractor on samples/rfps/*.pdf
    python -m bench.rfp_extraction --show       # and what was missed / found in excess

A gold requirement is found when an extracted requirement has at least MATCH_SHARE of its words
(each extracted requirement matches at most one gold one, best match first). Precision is the share
of extracted requirements that match a gold one; strength agreement is over the matched pairs.
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


def load_gold(path: Path) -> list[GoldRequirement]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [GoldRequirement.model_validate(r) for r in raw["requirements"]]


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
    total_gold = total_found = total_matched = 0
    print(f"{'RFP':40} {'gold':>5} {'found':>6} {'recall':>7} {'precision':>10} {'strength':>9}")
    for gold_path in sorted(RFPS.glob("*.gold.yaml")):
        pdf = RFPS / f"{gold_path.name.removesuffix('.gold.yaml')}.pdf"
        extraction = extract_offline(read_document(pdf.read_bytes(), pdf.name))
        result = score(pdf.name, load_gold(gold_path), extraction.requirements)
        total_gold, total_found, total_matched = (
            total_gold + result.gold,
            total_found + result.extracted,
            total_matched + result.matched,
        )
        agreement = result.strength_agrees / result.matched if result.matched else 0.0
        print(
            f"{pdf.name:40} {result.gold:5} {result.extracted:6} {result.recall:7.2f} {result.precision:10.2f}"
            f" {agreement:9.2f}"
        )
        if args.show:
            for text in result.missed:
                print(f"    missed: {text}")
            for text in result.excess:
                print(f"    excess: {text}")
    recall = total_matched / total_gold if total_gold else 1.0
    precision = total_matched / total_found if total_found else 1.0
    print(f"{'all (micro)':40} {total_gold:5} {total_found:6} {recall:7.2f} {precision:10.2f}")


if __name__ == "__main__":
    main()
