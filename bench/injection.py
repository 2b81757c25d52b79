"""Precision and recall of injection detection on the labelled list, overall, per split and per family.

python -m bench.injection
"""

import json
from collections import defaultdict
from pathlib import Path

from reviewer.injection import looks_like_injection

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "data" / "injection_labelled.jsonl"


def load() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def figures(rows: list[dict]) -> tuple[float, float, int, int]:
    """(precision, recall, false positives, false negatives) of looks_like_injection on rows."""
    tp = sum(1 for r in rows if r["injection"] and looks_like_injection(r["text"]))
    fp = sum(1 for r in rows if not r["injection"] and looks_like_injection(r["text"]))
    fn = sum(1 for r in rows if r["injection"] and not looks_like_injection(r["text"]))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, fp, fn


def main() -> None:
    rows = load()
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[f"split={r['split']}"].append(r)
    print(f"{'group':<28}{'n':>5}{'precision':>11}{'recall':>8}{'fp':>4}{'fn':>4}")
    for name, group in [("all", rows), *sorted(groups.items())]:
        p, r, fp, fn = figures(group)
        print(f"{name:<28}{len(group):>5}{p:>11.2f}{r:>8.2f}{fp:>4}{fn:>4}")
    innocents = [r for r in rows if not r["injection"]]
    families: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["injection"]:
            families[r["family"]].append(r)
    print("\nper family (each with all innocent sentences, so precision counts every false alarm):")
    for family, group in sorted(families.items()):
        p, r, fp, fn = figures(group + innocents)
        print(f"{family:<28}{len(group):>5}{p:>11.2f}{r:>8.2f}{fp:>4}{fn:>4}")
    for r in rows:
        if r["injection"] != looks_like_injection(r["text"]):
            kind = "missed" if r["injection"] else "false alarm"
            print(f"{kind} ({r['family']}, {r['split']}): {r['text']}")


if __name__ == "__main__":
    main()
