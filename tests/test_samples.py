"""The committed samples are what the README's quick start and the accuracy figures rest on."""

from pathlib import Path

import pytest
import yaml

from reviewer.citations import QuoteLocator
from reviewer.documents import read_pdf
from reviewer.injection import find_injection_passages
from reviewer.rubric import load_rubric
from samples.build_samples import SOURCES_DIR, proposal_pdf_bytes

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
LABELS = yaml.safe_load((SAMPLES / "labels.yaml").read_text())


@pytest.fixture(scope="module")
def documents():
    return {name: read_pdf((SAMPLES / name).read_bytes(), name) for name in LABELS["documents"]}


def test_at_least_six_multi_page_samples_with_a_text_layer(documents):
    assert len(documents) >= 6
    for document in documents.values():
        assert document.page_count >= 3
        assert all(len(p.text) > 200 for p in document.pages)
        assert not document.warnings


def test_every_sample_is_labelled_for_every_criterion_of_the_rubric():
    rubric = load_rubric()
    assert rubric.id == LABELS["rubric"]
    ids = set(rubric.criterion_ids)
    for entry in LABELS["documents"].values():
        assert set(entry["labels"]) == ids


def test_labels_span_all_four_grades():
    grades = {label["grade"] for entry in LABELS["documents"].values() for label in entry["labels"].values()}
    assert grades == {"met", "partial", "missing", "red_flag"}


def test_every_gold_quote_is_verbatim_on_its_page(documents):
    for name, entry in LABELS["documents"].items():
        locator = QuoteLocator(documents[name])
        for criterion_id, label in entry["labels"].items():
            if label["grade"] == "missing":
                assert not label.get("quote")
                continue
            citation = locator.locate(label["page"], label["quote"])
            assert citation.verified and citation.cited_page is None, (name, criterion_id)


def test_one_sample_has_a_table_and_one_a_prompt_injection(documents):
    sources = [p.read_text() for p in SOURCES_DIR.glob("*.md")]
    assert any(line.startswith("|") for text in sources for line in text.splitlines())
    injected = {
        name: entry["injection_pages"] for name, entry in LABELS["documents"].items() if "injection_pages" in entry
    }
    assert injected
    for name, pages in injected.items():
        assert sorted({p.page for p in find_injection_passages(documents[name])}) == pages
    clean = [name for name in LABELS["documents"] if name not in injected]
    assert all(not find_injection_passages(documents[name]) for name in clean)


def test_committed_pdfs_are_what_the_generator_makes_from_the_sources():
    for source in SOURCES_DIR.glob("*.md"):
        committed = (SAMPLES / f"{source.stem}.pdf").read_bytes()
        assert proposal_pdf_bytes(source.read_text(), title=source.stem) == committed, source.name
