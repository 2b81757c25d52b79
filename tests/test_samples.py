"""The committed samples are what the README's quick start and the accuracy figures rest on: the six
development samples and the held-out set in samples/heldout."""

from pathlib import Path

import pytest
import yaml

from reviewer.citations import QuoteLocator
from reviewer.injection import find_injection_passages
from reviewer.rubric import load_rubric
from samples.build_samples import HELDOUT_DIR, SAMPLES_DIR, SETS, proposal_pdf_bytes
from tests.samples import sample_document


def labels_of(sample_set: Path) -> dict:
    return yaml.safe_load((sample_set / "labels.yaml").read_text())


def documents_of(sample_set: Path) -> dict:
    return {name: sample_document(sample_set / name) for name in labels_of(sample_set)["documents"]}


@pytest.fixture(scope="module", params=SETS, ids=lambda p: p.name)
def sample_set(request) -> tuple[Path, dict, dict]:
    return request.param, labels_of(request.param), documents_of(request.param)


def test_the_development_set_has_six_samples_and_the_held_out_set_eight():
    assert len(labels_of(SAMPLES_DIR)["documents"]) >= 6
    assert len(labels_of(HELDOUT_DIR)["documents"]) >= 8


def test_every_sample_is_multi_page_with_a_text_layer(sample_set):
    _, _, documents = sample_set
    for document in documents.values():
        assert document.page_count >= 3
        assert all(len(p.text) > 200 for p in document.pages)
        assert not document.warnings


def test_every_sample_is_labelled_for_every_criterion_of_the_rubric(sample_set):
    _, labels, _ = sample_set
    rubric = load_rubric()
    assert rubric.id == labels["rubric"]
    for entry in labels["documents"].values():
        assert set(entry["labels"]) == set(rubric.criterion_ids)


def test_labels_span_all_four_grades(sample_set):
    _, labels, _ = sample_set
    grades = {label["grade"] for entry in labels["documents"].values() for label in entry["labels"].values()}
    assert grades == {"met", "partial", "missing", "red_flag"}


def test_every_gold_quote_is_verbatim_on_its_page(sample_set):
    _, labels, documents = sample_set
    for name, entry in labels["documents"].items():
        locator = QuoteLocator(documents[name])
        for criterion_id, label in entry["labels"].items():
            if label["grade"] == "missing":
                assert not label.get("quote")
                continue
            citation = locator.locate(label["page"], label["quote"])
            assert citation.verified and citation.cited_page is None, (name, criterion_id)


def test_one_sample_has_a_table_and_one_a_prompt_injection():
    labels, documents = labels_of(SAMPLES_DIR), documents_of(SAMPLES_DIR)
    sources = [p.read_text() for p in (SAMPLES_DIR / "sources").glob("*.md")]
    assert any(line.startswith("|") for text in sources for line in text.splitlines())
    injected = {
        name: entry["injection_pages"] for name, entry in labels["documents"].items() if "injection_pages" in entry
    }
    assert injected
    for name, pages in injected.items():
        assert sorted({p.page for p in find_injection_passages(documents[name])}) == pages
    clean = [name for name in labels["documents"] if name not in injected]
    assert all(not find_injection_passages(documents[name]) for name in clean)


def test_committed_pdfs_are_what_the_generator_makes_from_the_sources(sample_set):
    directory, labels, _ = sample_set
    sources = sorted((directory / "sources").glob("*.md"))
    assert {f"{s.stem}.pdf" for s in sources} == set(labels["documents"])
    for source in sources:
        committed = (directory / f"{source.stem}.pdf").read_bytes()
        assert proposal_pdf_bytes(source.read_text(), title=source.stem) == committed, source.name
