"""Requirement extraction from RFPs: recall and precision per RFP against hand-made lists, without
and with grouping (reviewer rubric from-rfp --group).

    python -m bench.rfp_extraction              # the offline extractor on samples/rfps/*.pdf
    python -m bench.rfp_extraction --show       # and what was missed / found in excess, and the groups
    python -m bench.rfp_extraction --backend anthropic   # Claude (needs ANTHROPIC_API_KEY; calls the API)

A gold requirement is found when an extracted requirement has at least MATCH_SHARE of its words
(each extracted requirement matches at most one gold one, best match first). Precision is the share
of extracted requirements that match a gold one; strength agreement is over the matched pairs.
With --group the same figures are taken over the members of the criteria (grouping must keep every
requirement), and grouping is scored pairwise over the matched requirements: of the pairs put in one
criterion, the share the hand-made grouping (`group:` in the gold file) also puts together
(precision), and of the pairs it puts together, the share put in one criterion (recall).
Totals are given apart for the RFPs the rules were adjusted on and for the held-out ones (written
after the rules were frozen; `held_out: true` in their gold file).
"""

import argparse
import asyncio
from itertools import combinations
from pathlib import Path

import yaml
from pydantic import BaseModel

from reviewer.documents import Document, read_document
from reviewer.requirements.checks import words
from reviewer.requirements.grouping import group_requirements
from reviewer.requirements.models import Extraction, Requirement
from reviewer.requirements.offline import extract_offline

RFPS = Path(__file__).resolve().parent.parent / "samples" / "rfps"
MATCH_SHARE = 0.75


class GoldRequirement(BaseModel):
    ref: str | None
    strength: str
    text: str
    group: str | None = None


class Score(BaseModel):
    rfp: str
    gold: int
    extracted: int
    matched: int
    strength_agrees: int
    missed: list[str]
    excess: list[str]
    pairs: dict[int, int] = {}  # gold index -> extracted index

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.extracted if self.extracted else 1.0


class GroupScore(BaseModel):
    criteria: int
    groups: int
    largest: int
    together: int  # matched pairs put in one criterion
    gold_together: int  # matched pairs the hand-made grouping puts together
    both: int

    @property
    def precision(self) -> float:
        return self.both / self.together if self.together else 1.0

    @property
    def recall(self) -> float:
        return self.both / self.gold_together if self.gold_together else 1.0


class Gold(BaseModel):
    """A held-out RFP was written after the extraction rules (held_out) or the grouping rules
    (held_out_grouping) were frozen, and never used to change them."""

    held_out: bool = False
    held_out_grouping: bool = False
    requirements: list[GoldRequirement]


def load_gold(path: Path) -> Gold:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Gold.model_validate({k: v for k, v in raw.items() if k != "rfp"})


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
        pairs=gold_used,
    )


def score_groups(gold: list[GoldRequirement], matched: dict[int, int], group_of: list[int]) -> GroupScore:
    """Pairwise agreement over the matched requirements: `group_of[i]` is extracted requirement i's criterion."""
    together = gold_together = both = 0
    for (g1, f1), (g2, f2) in combinations(sorted(matched.items()), 2):
        predicted = group_of[f1] == group_of[f2]
        expected = gold[g1].group is not None and gold[g1].group == gold[g2].group
        together += predicted
        gold_together += expected
        both += predicted and expected
    sizes = [group_of.count(g) for g in set(group_of)]
    return GroupScore(
        criteria=len(sizes),
        groups=sum(size > 1 for size in sizes),
        largest=max(sizes, default=0),
        together=together,
        gold_together=gold_together,
        both=both,
    )


def extract(document: Document, backend: str, group: bool) -> Extraction:
    if backend == "offline":
        return extract_offline(document)
    from reviewer.config import Settings
    from reviewer.requirements.claude import extract_with_claude

    return asyncio.run(extract_with_claude(document, Settings.load(), group=group))


def _micro(rows: list[tuple[int, int, int]]) -> tuple[int, int, float, float]:
    gold_n, found_n, matched = (sum(column) for column in zip(*rows, strict=True)) if rows else (0, 0, 0)
    return gold_n, found_n, matched / gold_n if gold_n else 1.0, matched / found_n if found_n else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list missed and excess requirements, and the groups")
    parser.add_argument("--backend", choices=["offline", "anthropic"], default="offline")
    args = parser.parse_args()
    if args.backend == "anthropic":
        from reviewer.config import Settings

        if not Settings.load().has_api_key:
            print("anthropic: not measured (no ANTHROPIC_API_KEY set; this bench calls the API)")
            return
    extraction_rows: dict[tuple[bool, bool], list[tuple[int, int, int]]] = {}
    group_rows: dict[bool, list[GroupScore]] = {False: [], True: []}
    print(f"backend: {args.backend}")
    header = f"{'RFP':42} {'--group':>7} {'gold':>5} {'found':>6} {'recall':>7} {'precision':>10} {'strength':>9}"
    print(f"{header} {'criteria':>9} {'groups':>7} {'largest':>8} {'pair P':>7} {'pair R':>7}")
    for gold_path in sorted(RFPS.glob("*.gold.yaml")):
        pdf = RFPS / f"{gold_path.name.removesuffix('.gold.yaml')}.pdf"
        loaded = load_gold(gold_path)
        held_out, gold = loaded.held_out, loaded.requirements
        document = read_document(pdf.read_bytes(), pdf.name)
        for grouped in (False, True):
            extraction = extract(document, args.backend, grouped)
            groups = group_requirements(extraction.requirements) if grouped else None
            # With --group, extraction is scored over the criteria's members, in criterion order.
            found = [m for g in groups for m in g.members] if groups else extraction.requirements
            result = score(pdf.name, gold, found)
            extraction_rows.setdefault((grouped, held_out), []).append((result.gold, result.extracted, result.matched))
            agreement = result.strength_agrees / result.matched if result.matched else 0.0
            kept_apart = loaded.held_out_grouping if grouped else held_out
            name = f"{pdf.name}{' (held out)' if kept_apart else ''}"
            line = (
                f"{name:42} {'yes' if grouped else 'no':>7} {result.gold:5} {result.extracted:6}"
                f" {result.recall:7.2f} {result.precision:10.2f} {agreement:9.2f}"
            )
            if groups is None:
                print(f"{line} {len(found):9}")
            else:
                group_of = [i for i, g in enumerate(groups) for _ in g.members]
                grouping = score_groups(gold, result.pairs, group_of)
                group_rows[loaded.held_out_grouping].append(grouping)
                print(
                    f"{line} {grouping.criteria:9} {grouping.groups:7} {grouping.largest:8}"
                    f" {grouping.precision:7.2f} {grouping.recall:7.2f}"
                )
            if args.show and not grouped:
                for text in result.missed:
                    print(f"    missed: {text}")
                for text in result.excess:
                    print(f"    excess: {text}")
            if args.show and groups:
                for g in groups:
                    if len(g.members) > 1:
                        print(f"    group ({g.section}): " + " | ".join(m.text[:50] for m in g.members))
    print("extraction totals: the extraction rules were adjusted on the first set, not on the held-out one")
    for held_out, label in ((False, "rules written against (micro)"), (True, "held out (micro)")):
        for grouped in (False, True):
            rows = extraction_rows.get((grouped, held_out), [])
            if rows:
                gold_n, found_n, recall, precision = _micro(rows)
                print(
                    f"{label:42} {'yes' if grouped else 'no':>7} {gold_n:5} {found_n:6} {recall:7.2f} {precision:10.2f}"
                )
    print("grouping totals (pairs of matched requirements): the grouping rules were adjusted on the first set")
    for held_out, label in ((False, "grouping rules written against (micro)"), (True, "grouping held out (micro)")):
        scores = group_rows[held_out]
        if not scores:
            continue
        together = sum(s.together for s in scores)
        gold_together = sum(s.gold_together for s in scores)
        both = sum(s.both for s in scores)
        p = both / together if together else 1.0
        r = both / gold_together if gold_together else 1.0
        print(
            f"{label:42} {'yes':>7} {'':5} {'':6} {'':7} {'':10} {'':9} {sum(s.criteria for s in scores):9}"
            f" {sum(s.groups for s in scores):7} {max(s.largest for s in scores):8} {p:7.2f} {r:7.2f}"
        )


if __name__ == "__main__":
    main()
