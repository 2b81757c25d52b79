"""Closely related requirements grouped into one criterion (reviewer rubric from-rfp --group).

Two requirements are grouped when they are consecutive, stand under the same heading and either come
from the same unit of text (one clause, one paragraph, one "shall:" list) or share at least
SHARED_SUBJECT_WORDS words of their subject (neighbouring sub-clauses, table rows). Words that many
of the RFP's requirements use (the vendor's and the buyer's names, "system", "data") say nothing
about a subject and are left out of that comparison. Rows of a table that gives each row its own
priority are never grouped with one another: the RFP weighs them apart. Claude, when asked to group,
labels related requirements itself; its labels are used as given. Either way a group holds at most
MAX_MEMBERS requirements (a longer run is cut into even parts), so it stays small enough to grade,
and every member keeps its reference, text, page and verified quote.
"""

import math
import re
from collections import Counter

from reviewer.requirements.checks import words
from reviewer.requirements.models import Requirement, RequirementGroup

MAX_MEMBERS = 6
# Measured by bench/rfp_extraction.py on samples/rfps (pairs of requirements in one group, against a
# hand-made grouping); update with the bench.
MEASURED_GROUPING = (
    "pairwise precision 0.38, recall 0.29 on a held-out sample RFP (0.45 and 0.66 on the 4 it was adjusted on)"
)
SHARED_SUBJECT_WORDS = 2  # content words two neighbours must share to be about the same subject
COMMON_WORD_SHARE = 0.3  # a word used by more than this share of the requirements is not a subject word
_STOPWORDS = set(
    "a an and any are as at be been by can each for from has have in into is it its of on or our shall should "
    "must may will not no that the their them they this these those to with within without all such than "
    "which who when where how other every also only per able required provide provides include including".split()
)
_NUMBER = re.compile(r"^\d")


def _content_words(text: str) -> set[str]:
    return {w for w in words(text) if w not in _STOPWORDS and len(w) > 2 and not _NUMBER.match(w)}


def _common_words(requirements: list[Requirement]) -> set[str]:
    counts = Counter(w for r in requirements for w in _content_words(r.text))
    limit = max(2, math.ceil(COMMON_WORD_SHARE * len(requirements)))
    return {w for w, n in counts.items() if n > limit}


def related(a: Requirement, b: Requirement, common: set[str]) -> bool:
    """Neighbours about the same subject: same heading, and the same unit of text or shared subject words."""
    if a.section is None or a.section != b.section or (a.prioritised and b.prioritised):
        return False
    if a.passage is not None and a.passage == b.passage:
        return True
    shared = (_content_words(a.text) & _content_words(b.text)) - common
    return len(shared) >= SHARED_SUBJECT_WORDS


def _capped(run: list[Requirement]) -> list[list[Requirement]]:
    parts = math.ceil(len(run) / MAX_MEMBERS)
    size = math.ceil(len(run) / parts)
    return [run[i : i + size] for i in range(0, len(run), size)]


def _by_structure(requirements: list[Requirement]) -> list[list[Requirement]]:
    common = _common_words(requirements)
    runs: list[list[Requirement]] = []
    for requirement in requirements:
        if runs and related(runs[-1][-1], requirement, common):
            runs[-1].append(requirement)
        else:
            runs.append([requirement])
    return runs


def _by_label(requirements: list[Requirement]) -> list[list[Requirement]]:
    """The extractor's own labels; a requirement without one stands alone. Groups keep reading order,
    each placed where its first member is."""
    runs: list[list[Requirement]] = []
    where: dict[str, list[Requirement]] = {}
    for requirement in requirements:
        label = (requirement.group or "").strip().casefold()
        if label and label in where:
            where[label].append(requirement)
            continue
        run = [requirement]
        runs.append(run)
        if label:
            where[label] = run
    return runs


def group_requirements(requirements: list[Requirement]) -> list[RequirementGroup]:
    """Requirements (verified, deduplicated, in reading order) as groups of closely related ones; a
    requirement with no related neighbour is a group of one."""
    labelled = any(r.group for r in requirements)
    runs = _by_label(requirements) if labelled else _by_structure(requirements)
    groups: list[RequirementGroup] = []
    for run in runs:
        for part in _capped(run):
            sections = {r.section for r in part}
            groups.append(RequirementGroup(members=part, section=sections.pop() if len(sections) == 1 else None))
    return groups
