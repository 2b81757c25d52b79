"""Requirements -> a Rubric: one criterion per requirement, its text as description, its source kept;
with grouping, one criterion per group of closely related requirements, each member's source kept."""

import re

from reviewer.requirements.grouping import group_requirements
from reviewer.requirements.models import WEIGHTS, Extraction, Requirement, RequirementGroup
from reviewer.rubric import Criterion, CriterionKind, Guidance, RequirementSource, Rubric

MAX_TITLE_WORDS = 9
MAX_ID_CHARS = 48
MAX_KEYWORDS = 8
MAX_GROUP_KEYWORDS = 12
_SUBJECT_AND_MODAL = re.compile(
    r"^(?:.{0,80}?)\b(?:shall|must|should|may|will|is required to|are required to|is expected to|"
    r"are expected to)(?:\s+(?:also|be able to))?\s+",
    re.IGNORECASE,
)
_CONTRACT_WORDS = re.compile(
    r"\b(?:contract|terms|price|pricing|prices|payment|invoice|insurance|indemnity|liabilit\w+|warrant\w+|"
    r"own(?:ed|ership)?|licen[cs]e\w*|exit|handover|term|penalt\w+|service credits?)\b",
    re.IGNORECASE,
)
_STOPWORDS = set(
    "a an and any are as at be by each for from has have in into is it its of on or our shall should must may "
    "that the their them they this to will with within without all not such than".split()
)


def _action(text: str) -> str:
    """What is asked, without its subject and modal: 'The system shall support SSO' -> 'support SSO'."""
    match = _SUBJECT_AND_MODAL.match(text)
    action = text[match.end() :] if match else text
    return action.rstrip(" .;:") or text.rstrip(" .;:")


def title_of(requirement: Requirement) -> str:
    words = _action(requirement.text).split()
    title = " ".join(words[:MAX_TITLE_WORDS]).rstrip(",;:")
    if len(words) > MAX_TITLE_WORDS:
        title += " ..."
    return title[:1].upper() + title[1:]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


def criterion_id(requirement: Requirement, taken: set[str]) -> str:
    if requirement.reference:
        base = f"req_{_slug(requirement.reference)}"
    else:
        significant = [w for w in _slug(_action(requirement.text)).split("_") if w and w not in _STOPWORDS]
        base = "_".join(significant[:6]) or "requirement"
        if not base[0].isalpha():
            base = f"req_{base}"
    base = base[:MAX_ID_CHARS].rstrip("_")
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def guidance_for(requirement: Requirement) -> Guidance:
    action = _action(requirement.text)
    negative = action.casefold().startswith("not ")
    if action.casefold().startswith("be ") or action == requirement.text.rstrip(" .;:"):
        met = "Meets the requirement as stated, for the whole scope, and says how: feature, method or evidence."
        red = "Says it does not meet it, meets it only by a different means than asked, or proposes its opposite."
    elif negative:
        met = f"Commits not to {action[4:]}, and says how this is ensured (design, process, contract terms)."
        red = f"Says it will or may {action[4:]}, or leaves room for it."
    else:
        met = f"Commits to {action}, and says how (product feature, method or evidence), for the whole scope."
        red = f"Says it cannot or will not {action}, or proposes something that runs against it."
    if requirement.mandatory:
        red += " This is a mandatory requirement: leaving it out is a red flag too."
    partial = (
        "Addresses it only in part: for part of the scope, with conditions or exceptions, later than asked, "
        "as a future roadmap item, or without saying how."
    )
    return Guidance(met=met, partial=partial, red_flag=red)


def keywords_of(requirement: Requirement, limit: int = MAX_KEYWORDS) -> list[str]:
    seen: list[str] = []
    for word in re.findall(r"[A-Za-z][\w./-]*[\w]|\d[\w.%]*", _action(requirement.text)):
        key = word.casefold()
        if key not in _STOPWORDS and len(key) > 2 and key not in seen:
            seen.append(key)
    return seen[:limit]


def criterion_for(requirement: Requirement, taken: set[str]) -> Criterion:
    label = f"{requirement.reference}: " if requirement.reference else ""
    return Criterion(
        id=criterion_id(requirement, taken),
        title=title_of(requirement),
        kind=CriterionKind.CONTRACT if _CONTRACT_WORDS.search(requirement.text) else CriterionKind.VENDOR,
        weight=WEIGHTS[requirement.strength],
        description=requirement.text,
        guidance=guidance_for(requirement),
        keywords=keywords_of(requirement),
        question=f"How does your proposal meet the RFP's requirement {label}'{requirement.text}'?",
        reference=requirement.reference,
        strength=requirement.strength,
        mandatory=requirement.mandatory,
        source_page=requirement.page,
        source_quote=requirement.quote,
    )


def _member_label(requirement: Requirement) -> str:
    return f"{requirement.reference} " if requirement.reference else ""


def _section_title(section: str | None) -> str | None:
    """'3.2 Security and data protection' -> 'Security and data protection'."""
    if not section:
        return None
    title = re.sub(
        r"^(?:[\dA-Z]{1,3}(?:\.\d{1,3})*\.?|(?:Part|Section|Annex|Appendix|Schedule|Chapter|Lot)\b[^:]*:)\s+",
        "",
        section,
    )
    return title.strip() or None


def group_id(group: RequirementGroup, taken: set[str]) -> str:
    references = list(dict.fromkeys(m.reference for m in group.members if m.reference))
    if len(references) >= 2:
        base = f"req_{_slug(references[0])}_to_{_slug(references[-1])}"[:MAX_ID_CHARS].rstrip("_")
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}_{n}", n + 1
        taken.add(candidate)
        return candidate
    return criterion_id(group.members[0], taken)


def criterion_for_group(group: RequirementGroup, taken: set[str]) -> Criterion:
    """One criterion for closely related requirements: its strength and weight are the strongest
    member's, its description lists every member with its clause and strength, and each member's page
    and quote is kept in `members`."""
    members = group.members
    count = len(members)
    heading = _section_title(group.section)
    first = title_of(members[0])
    title = f"{heading}: {first}" if heading else first
    title += f" (+{count - 1} related)"
    listed = " ".join(
        f"({i}) {_member_label(m)}[{m.strength}] {m.text.rstrip()}" for i, m in enumerate(members, start=1)
    )
    mandatory_members = [m for m in members if m.mandatory]
    red = "Says it does not meet one of them, meets one by a different means than asked, or proposes its opposite."
    if len(mandatory_members) == count:
        red += " All of them are mandatory: leaving any one out is a red flag too."
    elif mandatory_members:
        which = ", ".join(f"({members.index(m) + 1})" for m in mandatory_members)
        red += f" Mandatory: {which}; leaving any of those out is a red flag too."
    guidance = Guidance(
        met=f"Meets all {count} requirements listed, for the whole scope, and says how for each: feature, "
        "method or evidence.",
        partial="Meets some of them but not all, or meets them only in part: for part of the scope, with "
        "conditions, later than asked, as a roadmap item, or without saying how.",
        red_flag=red,
    )
    keywords: list[str] = []
    for member in members:
        keywords += [k for k in keywords_of(member) if k not in keywords]
    references = ", ".join(dict.fromkeys(m.reference for m in members if m.reference))
    return Criterion(
        id=group_id(group, taken),
        title=title,
        kind=CriterionKind.CONTRACT if all(_CONTRACT_WORDS.search(m.text) for m in members) else CriterionKind.VENDOR,
        weight=WEIGHTS[group.strength],
        description=f"{count} closely related requirements of the RFP, graded together: {listed}",
        guidance=guidance,
        keywords=keywords[:MAX_GROUP_KEYWORDS],
        question="How does your proposal meet the RFP's related requirements "
        + "; ".join(f"{_member_label(m)}'{m.text.rstrip()}'" for m in members)
        + "?",
        reference=references or None,
        strength=group.strength,
        mandatory=group.mandatory,
        source_page=members[0].page,
        members=[
            RequirementSource(reference=m.reference, strength=m.strength, text=m.text, page=m.page, quote=m.quote)
            for m in members
        ],
    )


def rubric_id_for(file_name: str) -> str:
    stem = file_name.rsplit(".", 1)[0]
    slug = _slug(stem)[:50].rstrip("_") or "rfp"
    return slug if slug[0].isalpha() else f"rfp_{slug}"


def to_rubric(extraction: Extraction, *, merge: Rubric | None = None, group: bool = False) -> Rubric:
    """One criterion per requirement, or with `group` per group of closely related ones (a group of
    one is the same criterion as without grouping); with `merge`, that rubric's criteria follow."""
    taken: set[str] = set(merge.criterion_ids) if merge else set()
    if group:
        criteria = [
            criterion_for(g.members[0], taken) if len(g.members) == 1 else criterion_for_group(g, taken)
            for g in group_requirements(extraction.requirements)
        ]
    else:
        criteria = [criterion_for(r, taken) for r in extraction.requirements]
    own = len(criteria)
    if merge:
        criteria += merge.criteria
    grouped = f" in {own} criteria, closely related ones grouped" if group else ""
    rubric_id = rubric_id_for(extraction.file_name)
    return Rubric(
        id=rubric_id if rubric_id.startswith("rfp") else f"rfp_{rubric_id}"[:64].rstrip("_"),
        version="1.0",
        title=f"Requirements of {extraction.file_name}" + (f" with {merge.title}" if merge else ""),
        description=f"Drawn from {extraction.file_name} ({extraction.method} extraction, "
        f"{len(extraction.requirements)} requirements{grouped})"
        + (f" and the criteria of '{merge.id}'." if merge else "."),
        criteria=criteria,
    )
