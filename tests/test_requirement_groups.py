"""reviewer rubric from-rfp --group: closely related requirements as one criterion."""

import asyncio
from pathlib import Path

import pytest
import yaml

from reviewer.citations import QuoteLocator
from reviewer.cli import main
from reviewer.documents import read_document
from reviewer.requirements import claude
from reviewer.requirements.grouping import MAX_MEMBERS, group_requirements
from reviewer.requirements.models import Extraction, Requirement
from reviewer.requirements.offline import extract_offline
from reviewer.requirements.rubric_yaml import rubric_yaml
from reviewer.requirements.to_rubric import to_rubric
from reviewer.rubric import load_rubric_file
from samples.rfps.build_rfps import build
from tests.conftest import make_document
from tests.fake_anthropic import FakeAnthropic, message_response

# Written for these tests, not one of the benchmark's RFPs.
HOSTING = (
    "All member data shall be stored in the United Kingdom. The supplier must encrypt member data at rest. "
    "The supplier should delete member data within 30 days of the end of the contract. "
    "The supplier may offer a private cloud option."
)
RFP_SOURCE = f"""# Request for Proposal TST-02: Study Room Booking Service
Borough Libraries

## 1. Requirements
### 1.1 Booking
1.1.1 The system shall let members book study rooms online.

1.1.2 The system shall let members cancel study room bookings online up to one hour before the start.

1.1.3 The system should send reminders by email.

### 1.2 Hosting and data
{HOSTING}

| Ref | Requirement | Priority |
| R-1 | Booking pages accessible to WCAG 2.2 level AA | Mandatory |
| R-2 | Booking pages available in Welsh and English | Desirable |
---page---
## 2. Support
The supplier shall provide support by telephone from 08:00 to 18:00 on working days.
"""


@pytest.fixture(scope="module")
def rfp_pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rfp") / "booking_rfp.pdf"
    path.write_bytes(build(RFP_SOURCE))
    return path


@pytest.fixture(scope="module")
def document(rfp_pdf):
    return read_document(rfp_pdf.read_bytes(), rfp_pdf.name)


@pytest.fixture(scope="module")
def extraction(document) -> Extraction:
    return extract_offline(document)


def _groups_by_text(extraction: Extraction) -> list[list[str]]:
    return [[m.text for m in g.members] for g in group_requirements(extraction.requirements)]


def test_offline_groups_by_clause_paragraph_and_shared_subject_under_one_heading(extraction):
    groups = _groups_by_text(extraction)
    assert len(extraction.requirements) == 10
    # Neighbouring sub-clauses sharing their subject's words; the third, about something else, stands alone.
    assert [
        "The system shall let members book study rooms online.",
        "The system shall let members cancel study room bookings online up to one hour before the start.",
    ] in groups
    assert ["The system should send reminders by email."] in groups
    # One paragraph under one heading: one group, whatever the strengths.
    hosting = next(g for g in groups if g[0].startswith("All member data"))
    assert len(hosting) == 4 and hosting[-1] == "The supplier may offer a private cloud option."
    # Rows that each carry their own priority are weighed apart; another heading is another subject.
    assert ["Booking pages accessible to WCAG 2.2 level AA"] in groups
    assert ["Booking pages available in Welsh and English"] in groups
    assert groups[-1] == ["The supplier shall provide support by telephone from 08:00 to 18:00 on working days."]
    assert len(groups) == 6
    # Grouping keeps every requirement, once, in reading order.
    assert [t for g in groups for t in g] == [r.text for r in extraction.requirements]


def test_a_group_keeps_every_members_reference_text_page_and_verified_quote(extraction, document):
    rubric = to_rubric(extraction, group=True)
    booking = rubric.criterion("req_1_1_1_to_1_1_2")
    assert [(m.reference, m.strength, m.page) for m in booking.members] == [("1.1.1", "must", 1), ("1.1.2", "must", 1)]
    assert booking.reference == "1.1.1, 1.1.2"
    assert "(1) 1.1.1 [must] The system shall let members book study rooms online." in booking.description
    assert "(2) 1.1.2 [must] The system shall let members cancel" in booking.description
    locator = QuoteLocator(document)
    for criterion in rubric.criteria:
        for member in criterion.members:
            assert member.text == member.quote
            assert locator.locate(member.page, member.quote).verified


def test_a_groups_strength_is_its_strongest_members_and_the_yaml_says_so(extraction, tmp_path):
    rubric = to_rubric(extraction, group=True)
    hosting = next(c for c in rubric.criteria if len(c.members) == 4)
    assert [m.strength for m in hosting.members] == ["must", "must", "should", "may"]
    assert (hosting.strength, hosting.mandatory, hosting.weight) == ("must", True, 3)
    assert hosting.title.startswith("Hosting and data: ") and hosting.title.endswith("(+3 related)")
    assert "Mandatory: (1), (2);" in hosting.guidance.red_flag
    text = rubric_yaml(rubric, header=["test"])
    block = text.split(f"  - id: {hosting.id}\n")[0].rsplit("\n\n", 1)[1]
    comment = " ".join(line.strip().removeprefix("# ") for line in block.splitlines())
    assert "Its strength is its strongest member's (must, mandatory; members: must, must, should, may)" in comment
    assert "Its 'should' and 'may' members are weighed as 'must' here." in comment
    assert "(4) RFP p.1 [may]: 'The supplier may offer a private cloud option.'" in comment
    path = tmp_path / "grouped.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_rubric_file(path).criterion(hosting.id)
    assert loaded.members == hosting.members and loaded.weight == 3


def test_a_long_run_of_related_requirements_is_cut_into_groups_of_at_most_the_cap():
    run = [
        Requirement(text=f"The supplier shall meet obligation {i}.", strength="should", page=1, quote="q", section="4")
        for i in range(MAX_MEMBERS + 2)
    ]
    run = [r.model_copy(update={"passage": 7}) for r in run]
    groups = group_requirements(run)
    assert [len(g.members) for g in groups] == [4, 4]
    assert [m for g in groups for m in g.members] == run
    assert all(g.strength == "should" and not g.mandatory for g in groups)


def test_without_group_the_rubric_is_one_criterion_per_requirement_as_before(extraction):
    plain = to_rubric(extraction)
    assert plain == to_rubric(extraction, group=False)
    assert len(plain.criteria) == len(extraction.requirements)
    assert all(not c.members for c in plain.criteria)
    # A requirement that stands alone becomes the same criterion with or without grouping.
    grouped = {c.id: c for c in to_rubric(extraction, group=True).criteria}
    alone = plain.criterion("req_1_1_3")
    assert grouped["req_1_1_3"] == alone


def test_cli_group_flag_writes_grouped_criteria_that_pass_the_check(rfp_pdf, tmp_path, capsys):
    plain, target = tmp_path / "plain.yaml", tmp_path / "grouped.yaml"
    assert main(["rubric", "from-rfp", str(rfp_pdf), "-o", str(plain)]) == 0
    assert main(["rubric", "from-rfp", str(rfp_pdf), "--group", "-o", str(target)]) == 0
    err = capsys.readouterr().err
    assert "10 requirements (6 mandatory) written" in err
    assert "10 requirements (6 mandatory) in 6 criteria (2 groups) written" in err
    text = target.read_text(encoding="utf-8")
    assert "# GROUPED (--group): the 10 requirements are 6 criteria" in text
    assert "GROUPED" not in plain.read_text(encoding="utf-8")
    criteria = yaml.safe_load(text)["criteria"]
    assert len(criteria) == 6
    assert sum(len(c.get("members", [])) or 1 for c in criteria) == 10
    assert main(["rubrics", "--check", str(target)]) == 0
    assert "6 criteria" in capsys.readouterr().out


def _grouping_claude(body, _):
    found = [
        ("1.2", "must", "All member data shall be stored in the United Kingdom.", "hosting and data"),
        ("1.2", "must", "The supplier must encrypt member data at rest.", "hosting and data"),
        ("1.2", "should", "The supplier shall hold a SOC 2 Type II report.", "hosting and data"),  # not in the RFP
        ("1.2", "may", "The supplier may offer a private cloud option.", "hosting and data"),
        ("1.1.3", "should", "The system should send reminders by email.", None),
    ]
    return message_response(
        {
            "requirements": [
                {"reference": r, "text": q, "strength": s, "page": 1, "quote": q, "group": g} for r, s, q, g in found
            ]
        }
    )


def test_claude_groups_by_its_own_labels_and_every_members_quote_is_verified(document, settings):
    fake = FakeAnthropic(_grouping_claude)
    extraction = asyncio.run(claude.extract_with_claude(document, settings, client=fake.client(), group=True))
    body = fake.requests[0]
    schema = body["output_config"]["format"]["schema"]
    assert "group" in schema["$defs"]["_GroupedFound"]["properties"]
    assert "group closely related requirements" in body["system"]
    assert [d.requirement.quote for d in extraction.dropped] == ["The supplier shall hold a SOC 2 Type II report."]
    groups = group_requirements(extraction.requirements)
    assert [[m.strength for m in g.members] for g in groups] == [["must", "must", "may"], ["should"]]
    assert groups[0].strength == "must"


def test_claude_is_not_asked_to_group_without_the_flag(document, settings):
    fake = FakeAnthropic(lambda body, n: message_response({"requirements": []}))
    asyncio.run(claude.extract_with_claude(document, settings, client=fake.client()))
    body = fake.requests[0]
    assert "group" not in str(body["output_config"]["format"]["schema"])
    assert body["system"] == claude.SYSTEM_PROMPT


def test_claude_labels_of_different_sections_do_not_merge(settings):
    document = make_document("The system shall log every sign-in.", "The system shall log every export.")

    def answer(body, _):
        section = body["messages"][0]["content"][0]["text"]
        quote = (
            "The system shall log every sign-in."
            if "=== Page 1 ===" in section
            else "The system shall log every export."
        )
        page = 1 if "=== Page 1 ===" in section else 2
        return message_response(
            {"requirements": [{"text": quote, "strength": "must", "page": page, "quote": quote, "group": "logging"}]}
        )

    fake = FakeAnthropic(answer)
    extraction = asyncio.run(
        claude.extract_with_claude(document, settings, client=fake.client(), section_chars=10, group=True)
    )
    assert len(fake.requests) == 2
    assert [len(g.members) for g in group_requirements(extraction.requirements)] == [1, 1]
