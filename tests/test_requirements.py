from pathlib import Path

import pytest
import yaml

from reviewer.cli import main
from reviewer.documents import read_document
from reviewer.requirements.checks import deduplicate, verify_quotes
from reviewer.requirements.models import Extraction, Requirement
from reviewer.requirements.offline import extract_offline
from reviewer.requirements.rubric_yaml import rubric_yaml
from reviewer.requirements.to_rubric import to_rubric
from reviewer.rubric import load_rubric, load_rubric_file
from samples.rfps.build_rfps import build
from tests.conftest import make_document
from tests.fake_anthropic import FakeAnthropic, message_response

# Written for these tests, not one of the benchmark's RFPs.
RFP_SOURCE = """# Request for Proposal TST-01: Records Search Service
County Records Office

## 1. Instructions
1.1 Proposals must be submitted through the portal by 12:00 on 1 May 2027.

1.2 The County may reject any proposal that is incomplete. Nothing in this RFP shall be construed as an offer.

## 2. Requirements
The vendor shall keep all records in the United Kingdom. Vendors should note that the County is a public body.

3.2.1 The system shall support single sign-on via SAML 2.0.

3.2.2 The system should offer a read-only API for partner agencies.

The Contractor shall:
- provide a named account manager;
- report every outage to the County within four hours.

| Ref | Requirement | Priority |
| R-12 | Search results in under 2 s at p95 | Mandatory |
| R-13 | Export of search history to CSV | Desirable |
| R-14 | The system shall support single sign-on via SAML 2.0. | Mandatory |
---page---
## Annex A
A.4 The vendor may propose an on-premises deployment as a priced option.
"""


@pytest.fixture(scope="module")
def rfp_pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rfp") / "records_rfp.pdf"
    path.write_bytes(build(RFP_SOURCE))
    return path


@pytest.fixture(scope="module")
def extraction(rfp_pdf) -> Extraction:
    return extract_offline(read_document(rfp_pdf.read_bytes(), rfp_pdf.name))


def _by_text(extraction: Extraction, words: str) -> Requirement:
    matches = [r for r in extraction.requirements if words in r.text]
    assert len(matches) == 1, (words, [r.text for r in extraction.requirements])
    return matches[0]


def test_offline_extraction_keeps_references_strengths_and_pages(extraction):
    sso = _by_text(extraction, "single sign-on via SAML 2.0")
    assert (sso.reference, sso.strength, sso.page) == ("3.2.1", "must", 1)
    assert _by_text(extraction, "read-only API").strength == "should"
    annex = _by_text(extraction, "on-premises deployment")
    assert (annex.reference, annex.strength, annex.page) == ("A.4", "may", 2)
    # Table rows take their strength from the priority column, with or without a modal verb.
    latency = _by_text(extraction, "under 2 s at p95")
    assert (latency.reference, latency.strength) == ("R-12", "must")
    assert _by_text(extraction, "search history to CSV").strength == "should"
    # "shall" inside a paragraph, and list items under a "shall:" lead-in.
    assert _by_text(extraction, "keep all records in the United Kingdom").reference is None
    assert _by_text(extraction, "named account manager").strength == "must"
    assert _by_text(extraction, "report every outage").strength == "must"


def test_offline_extraction_leaves_out_logistics_the_buyers_own_words_and_boilerplate(extraction):
    texts = " | ".join(r.text for r in extraction.requirements)
    for left_out in ("submitted through the portal", "may reject", "shall be construed", "should note"):
        assert left_out not in texts
    assert len(extraction.requirements) == 8


def test_a_requirement_stated_twice_is_kept_once(extraction):
    # R-14 repeats 3.2.1: kept once, with the first statement's clause number.
    assert [r.reference for r in extraction.requirements if "SAML" in r.text] == ["3.2.1"]


def test_deduplicate_fills_a_missing_reference_and_keeps_the_stronger_strength():
    first = Requirement(text="The system should support SSO via SAML 2.0.", strength="should", page=1, quote="x")
    second = Requirement(
        reference="R-4", text="The system shall support SSO via SAML 2.0.", strength="must", page=3, quote="y"
    )
    other = Requirement(text="The system shall keep audit logs.", strength="must", page=2, quote="z")
    kept = deduplicate([first, other, second])
    assert [(r.reference, r.strength, r.page) for r in kept] == [("R-4", "must", 1), (None, "must", 2)]


def test_a_requirement_whose_quote_does_not_verify_is_dropped_and_listed():
    document = make_document("Intro.", "The supplier shall host all data in the EU.")
    real = Requirement(
        text="host in the EU", strength="must", page=1, quote="The supplier shall host all data in the EU."
    )
    invented = Requirement(
        text="SOC 2", strength="must", page=2, quote="The supplier shall hold a SOC 2 Type II report."
    )
    kept, dropped = verify_quotes(document, [real, invented])
    assert [r.page for r in kept] == [2]  # found on page 2, not page 1 as given
    assert [d.requirement.quote for d in dropped] == [invented.quote]
    assert dropped[0].reason == "not found in the document"


def test_rubric_yaml_loads_back_as_the_same_rubric_with_its_sources(extraction, tmp_path):
    rubric = to_rubric(extraction, merge=load_rubric("default"))
    path = tmp_path / "rubric.yaml"
    path.write_text(rubric_yaml(rubric, header=["test"], merged_from="ai_vendor_checklist"), encoding="utf-8")
    loaded = load_rubric_file(path)
    assert loaded.criterion_ids == rubric.criterion_ids
    assert len(loaded.criteria) == len(extraction.requirements) + 9
    sso = loaded.criterion("req_3_2_1")
    assert (sso.reference, sso.strength, sso.mandatory, sso.weight, sso.source_page) == ("3.2.1", "must", True, 3, 1)
    assert sso.description == sso.source_quote == "The system shall support single sign-on via SAML 2.0."
    assert sso.title == "Support single sign-on via SAML 2.0"
    assert "support single sign-on via SAML 2.0" in sso.guidance.met
    assert loaded.criterion("req_a_4").weight == 1 and not loaded.criterion("req_a_4").mandatory
    assert loaded.criterion("evaluation_first").reference is None  # the default rubric's, unchanged
    text = path.read_text(encoding="utf-8")
    assert "  # RFP p.1 3.2.1 [must, mandatory]: 'The system shall support single sign-on via SAML 2.0.'\n" in text
    assert "  # From the rubric 'ai_vendor_checklist' (not in the RFP).\n  - id: evaluation_first\n" in text
    assert yaml.safe_load(text)["criteria"][0]["id"] == rubric.criteria[0].id


def test_cli_writes_a_labelled_rubric_that_passes_the_check(rfp_pdf, tmp_path, capsys):
    target = tmp_path / "rubric.yaml"
    assert main(["rubric", "from-rfp", str(rfp_pdf), "--merge", "default", "-o", str(target)]) == 0
    _, err = capsys.readouterr()
    assert "offline extraction (no language model; measured recall" in err
    assert "8 requirements (5 mandatory) written" in err
    assert target.read_text(encoding="utf-8").startswith("# Rubric drawn from records_rfp.pdf")
    assert "# OFFLINE EXTRACTION (no language model)" in target.read_text(encoding="utf-8")
    assert main(["rubrics", "--check", str(target)]) == 0
    assert "17 criteria" in capsys.readouterr().out


def test_cli_missing_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["rubric", "from-rfp", str(tmp_path / "missing.pdf")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines() == [
        f"reviewer: error: {tmp_path / 'missing.pdf'}: cannot read file (No such file or directory)"
    ]


def test_cli_refuses_a_document_without_requirements(tmp_path, capsys):
    path = tmp_path / "letter.pdf"
    path.write_bytes(build("# A letter\n\nThank you for your interest in working with us. We look forward to it."))
    assert main(["rubric", "from-rfp", str(path)]) == 2
    assert "no requirements found" in capsys.readouterr().err


def test_existing_rubrics_load_without_the_rfp_fields():
    rubric = load_rubric("default")
    assert all(c.reference is None and c.strength is None and not c.mandatory for c in rubric.criteria)


def _claude_answer(body, _):
    section = body["messages"][0]["content"][0]["text"]
    found = []
    if "=== Page 1 ===" in section:
        found.append(
            {
                "reference": "3.2.1",
                "text": "Support SSO via SAML 2.0",
                "strength": "must",
                "page": 1,
                "quote": "The system shall support single sign-on via SAML 2.0.",
            }
        )
        found.append(
            {
                "reference": None,
                "text": "Hold SOC 2",
                "strength": "must",
                "page": 1,
                "quote": "The vendor shall hold a SOC 2 Type II report.",
            }  # not in the RFP
        )
    if "=== Page 2 ===" in section:
        found.append(
            {
                "reference": "A.4",
                "text": "On-premises option",
                "strength": "may",
                "page": 1,
                "quote": "The vendor may propose an on-premises deployment",
            }  # on page 2, cited as 1
        )
    return message_response({"requirements": found})


def test_claude_extraction_reads_long_rfps_in_sections_and_verifies_every_quote(settings):
    import asyncio

    from reviewer.requirements import claude

    document = make_document(
        "Intro. The system shall support single sign-on via SAML 2.0.",
        "A.4 The vendor may propose an on-premises deployment as a priced option.",
    )
    fake = FakeAnthropic(_claude_answer)
    extraction = asyncio.run(
        claude.extract_with_claude(document, settings.with_model("claude-haiku-5-5"), client=fake.client())
    )
    assert len(fake.requests) == 1
    body = fake.requests[0]
    assert body["model"] == "claude-haiku-5-5"
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert extraction.method == "anthropic"
    assert [(r.reference, r.strength, r.page) for r in extraction.requirements] == [
        ("3.2.1", "must", 1),
        ("A.4", "may", 2),
    ]
    assert [d.requirement.quote for d in extraction.dropped] == ["The vendor shall hold a SOC 2 Type II report."]

    fake = FakeAnthropic(_claude_answer)
    # A long RFP (here: a section limit below one page) is read one section of whole pages at a time.
    split = asyncio.run(claude.extract_with_claude(document, settings, client=fake.client(), section_chars=10))
    assert len(fake.requests) == 2
    assert "Section 1 of 2" in fake.requests[0]["messages"][0]["content"][1]["text"]
    assert [r.reference for r in split.requirements] == ["3.2.1", "A.4"]


def test_claude_extraction_asks_again_after_an_invalid_answer(settings):
    import asyncio

    from reviewer.requirements.claude import extract_with_claude

    answers = iter([message_response("not json"), message_response({"requirements": []})])
    fake = FakeAnthropic(lambda body, n: next(answers))
    extraction = asyncio.run(
        extract_with_claude(make_document("The system shall log in."), settings, client=fake.client())
    )
    assert len(fake.requests) == 2 and extraction.requirements == []


def test_cli_claude_without_a_key_fails_in_one_line(rfp_pdf, capsys):
    assert main(["rubric", "from-rfp", str(rfp_pdf), "--backend", "anthropic"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ANTHROPIC_API_KEY" in err[0]
