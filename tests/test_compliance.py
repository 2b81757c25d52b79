"""The compliance matrix of an RFP's rubric, and mandatory requirements in the ranking."""

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from reviewer.comparison import Entry, build_comparison
from reviewer.render import compliance
from reviewer.review import Citation, DocumentInfo, Finding, Grade, Review, RubricInfo, Verdict, overall_score
from reviewer.rubric import Rubric

RUBRIC = Rubric.model_validate(
    {
        "id": "rfp",
        "version": "1",
        "title": "City RFP",
        "grades": ["met", "partial", "missing", "red_flag"],
        "criteria": [
            {
                "id": "sso",
                "title": "SSO",
                "kind": "vendor",
                "weight": 3,
                "description": "The system shall support SSO via SAML 2.0.",
                "reference": "3.2.1",
                "strength": "must",
                "mandatory": True,
                "source_quote": "The system shall support SSO via SAML 2.0.",
                "guidance": {"met": "supports SAML", "partial": "partly", "red_flag": "no SSO"},
            },
            {
                "id": "refs",
                "title": "References",
                "kind": "vendor",
                "weight": 1,
                "description": "Vendors should provide three references.",
                "reference": "R-12",
                "strength": "should",
                "guidance": {"met": "three references", "partial": "fewer", "red_flag": "none"},
            },
        ],
    }
)


def review(grades: dict[str, Grade], vendor: str) -> Review:
    findings = [
        Finding(
            criterion_id=cid,
            title=cid,
            kind="vendor",
            weight=3 if cid == "sso" else 1,
            grade=g,
            score={"met": 1.0, "partial": 0.5}.get(g.value, 0.0),
            citations=[Citation(page=2, quote=f"=cmd {vendor} on {cid}", verified=True, start=0, end=5)],
        )
        for cid, g in grades.items()
    ]
    score = overall_score(findings)
    return Review(
        created_at=datetime.now(UTC),
        document=DocumentInfo(file_name=f"{vendor}.pdf", sha256="0" * 64, pages=3),
        rubric=RubricInfo(id="rfp", version="1", title="City RFP"),
        backend="test",
        offline=False,
        vendor_name=vendor,
        findings=findings,
        overall_score=score,
        score_complete=True,
        verdict=Verdict.STRONG,
        red_flag_count=0,
        unsupported_count=0,
        error_count=0,
    )


ENTRIES = [
    Entry(vendor="Acme", file_name="acme.pdf", review=review({"sso": Grade.MISSING, "refs": Grade.MET}, "Acme")),
    Entry(
        vendor="Birch", file_name="birch.pdf", review=review({"sso": Grade.PARTIAL, "refs": Grade.RED_FLAG}, "Birch")
    ),
]


def test_one_row_per_requirement_with_each_vendors_compliance_and_evidence():
    c = build_comparison(ENTRIES, RUBRIC)
    assert compliance.is_rfp_rubric(c)
    rows = list(csv.reader(io.StringIO(compliance.to_csv(c))))
    assert rows[0][:3] == ["reference", "requirement", "mandatory"] and "Acme" in rows[0] and "Birch" in rows[0]
    by_ref = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert by_ref["3.2.1"]["requirement"] == "The system shall support SSO via SAML 2.0."
    assert by_ref["3.2.1"]["mandatory"] == "yes" and by_ref["R-12"]["mandatory"] == "no"
    assert (by_ref["3.2.1"]["Acme"], by_ref["3.2.1"]["Birch"]) == ("not addressed", "partial")
    assert (by_ref["R-12"]["Acme"], by_ref["R-12"]["Birch"]) == ("compliant", "non-compliant")
    assert by_ref["R-12"]["Acme: evidence"].startswith("p. 2: “=cmd Acme")  # inside the cell, never at its start
    book = load_workbook(io.BytesIO(compliance.to_xlsx(c)))
    assert book.sheetnames == ["Compliance", "Ranking"]
    assert all(cell.data_type != "f" for row in book["Compliance"].iter_rows() for cell in row)


def test_a_vendor_failing_a_mandatory_requirement_is_flagged_or_left_out_of_the_ranking():
    flagged = build_comparison(ENTRIES, RUBRIC)
    acme = next(r for r in flagged.rows if r.vendor == "Acme")
    assert acme.failed_mandatory == ["sso"] and acme.rank is not None and not acme.excluded
    excluded = build_comparison(ENTRIES, RUBRIC, mandatory="exclude")
    acme = next(r for r in excluded.rows if r.vendor == "Acme")
    birch = next(r for r in excluded.rows if r.vendor == "Birch")
    assert acme.excluded and acme.rank is None and birch.rank == 1
    notes = {vendor: text for vendor, _, text in compliance.ranking_note(excluded)}
    assert notes["Acme"] == "excluded from the ranking: fails mandatory sso"
    assert notes["Birch"] == "meets every mandatory requirement"


def test_the_default_rubric_gets_no_compliance_matrix(rubric):
    assert not compliance.is_rfp_rubric(build_comparison([], rubric))


def test_bulk_with_a_rubric_taken_from_an_rfp_writes_the_compliance_matrix(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from reviewer.cli import main

    root = Path(__file__).resolve().parent.parent
    rfp = sorted((root / "samples" / "rfps").glob("*.pdf"))[0]
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    assert main(["rubric", "from-rfp", str(rfp), "--backend", "offline", "-o", str(tmp_path / "rfp.yaml")]) == 0
    out = tmp_path / "out"
    sample = root / "samples" / "coral_data.pdf"
    args = ["bulk", str(sample), "--rubric", str(tmp_path / "rfp.yaml"), "--backend", "offline", "--out", str(out)]
    assert main([*args, "--mandatory", "exclude"]) in (0, 1)
    rows = list(csv.reader(io.StringIO((out / "compliance.csv").read_text())))
    assert len(rows) > 3 and rows[0][3] == "Coral Data"
    assert {r[3] for r in rows[1:]} <= set(compliance.COMPLIANCE.values())
    assert (out / "compliance.xlsx").exists()
    capsys.readouterr()


def test_a_criterion_grouping_related_requirements_gives_each_its_own_row_with_the_group_s_compliance():
    members = [
        {"reference": "3.2.1", "strength": "must", "text": "The system shall support SSO via SAML 2.0.", "page": 4},
        {"reference": "3.2.2", "strength": "should", "text": "Accounts should be provisioned through SCIM.", "page": 4},
    ]
    data = RUBRIC.model_dump(mode="json", exclude_none=True)
    data["criteria"][0] |= {"reference": "3.2.1, 3.2.2", "members": [m | {"quote": m["text"]} for m in members]}
    grouped = Rubric.model_validate(data)
    c = build_comparison(ENTRIES, grouped)
    rows = list(csv.reader(io.StringIO(compliance.to_csv(c))))
    assert rows[0][-1] == "graded as"
    by_ref = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert set(by_ref) == {"3.2.1", "3.2.2", "R-12"}  # one row per requirement, not per criterion
    assert by_ref["3.2.2"]["requirement"] == "Accounts should be provisioned through SCIM."
    assert (by_ref["3.2.1"]["mandatory"], by_ref["3.2.2"]["mandatory"]) == ("yes", "no")  # each its own strength
    for ref in ("3.2.1", "3.2.2"):
        assert (by_ref[ref]["Acme"], by_ref[ref]["Birch"]) == ("not addressed", "partial")  # the group's grade
        assert by_ref[ref]["graded as"] == "sso (with 1 related)"
    assert by_ref["R-12"]["graded as"] == "refs"
    sheet = load_workbook(io.BytesIO(compliance.to_xlsx(c)))["Compliance"]
    assert sheet.max_row == 4
