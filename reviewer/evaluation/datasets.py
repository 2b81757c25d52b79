"""Labelled sets the evaluation reads: the project's samples and ContractNLI.

A labelled set is a rubric plus documents, each with a gold grade per criterion and, where the
grade rests on text, the gold evidence located in our own page text (page and character range).
Documents are loaded one at a time, so a large set is never held in memory whole.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from reviewer.citations import QuoteLocator
from reviewer.config import IngestLimits
from reviewer.documents import Document, read_pdf
from reviewer.errors import BadInputError
from reviewer.review import Grade
from reviewer.rubric import Rubric, load_rubric

SAMPLES_DIR = Path(__file__).resolve().parent.parent.parent / "samples"

CONTRACTNLI_GRADES = {"Entailment": Grade.MET, "Contradiction": Grade.RED_FLAG, "NotMentioned": Grade.MISSING}
CONTRACTNLI_CRITERIA = {
    "nda-1": "explicit_identification",
    "nda-2": "only_technical_information",
    "nda-3": "verbal_information",
    "nda-4": "limited_use",
    "nda-5": "sharing_with_employees",
    "nda-7": "sharing_with_third_parties",
    "nda-8": "notice_on_compelled_disclosure",
    "nda-10": "confidentiality_of_agreement",
    "nda-11": "no_reverse_engineering",
    "nda-12": "independent_development",
    "nda-13": "acquire_from_third_party",
    "nda-15": "no_licensing",
    "nda-16": "return_or_destroy",
    "nda-17": "permissible_copy",
    "nda-18": "no_solicitation",
    "nda-19": "survival_of_obligations",
    "nda-20": "retention_after_return",
}


class EvidenceSpan(BaseModel):
    page: int
    start: int
    end: int


class GoldLabel(BaseModel):
    criterion_id: str
    grade: Grade
    evidence: list[EvidenceSpan] = Field(default_factory=list)


class LabelledDocument(BaseModel):
    document_id: str
    document: Document
    labels: list[GoldLabel]


class LabelledSet(BaseModel):
    name: str
    rubric: Rubric
    size: int
    model_config = {"arbitrary_types_allowed": True}

    def documents(self) -> Iterator[LabelledDocument]:  # overridden by each set
        raise NotImplementedError


def _locate_all(locator: QuoteLocator, quotes: list[tuple[int, str]]) -> list[EvidenceSpan]:
    spans = []
    for page, quote in quotes:
        citation = locator.locate(page, quote)
        if citation.verified and citation.start is not None and citation.end is not None:
            spans.append(EvidenceSpan(page=citation.page, start=citation.start, end=citation.end))
    return spans


class SamplesSet(LabelledSet):
    directory: Path

    def documents(self) -> Iterator[LabelledDocument]:
        raw = yaml.safe_load((self.directory / "labels.yaml").read_text(encoding="utf-8"))
        for name, entry in raw["documents"].items():
            document = read_pdf((self.directory / name).read_bytes(), name, limits=IngestLimits())
            locator = QuoteLocator(document)
            labels = [
                GoldLabel(
                    criterion_id=cid,
                    grade=Grade(label["grade"]),
                    evidence=_locate_all(locator, [(label["page"], label["quote"])] if label.get("quote") else []),
                )
                for cid, label in entry["labels"].items()
            ]
            yield LabelledDocument(document_id=name, document=document, labels=labels)


def load_samples(directory: Path = SAMPLES_DIR) -> SamplesSet:
    path = directory / "labels.yaml"
    if not path.is_file():
        raise BadInputError(f"{path}: no labels file", code="no_labels")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return SamplesSet(name="samples", rubric=load_rubric(), size=len(raw["documents"]), directory=directory)


class ContractNLISet(LabelledSet):
    path: Path

    def documents(self) -> Iterator[LabelledDocument]:
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        for entry in raw["documents"]:
            text = entry["text"]
            document = Document.from_text(text, entry["file_name"])
            locator = QuoteLocator(document)
            labels = []
            for hypothesis, annotation in entry["annotation_sets"][0]["annotations"].items():
                quotes = []
                for index in annotation["spans"]:
                    start, end = entry["spans"][index]
                    quotes.append((1, text[start:end]))
                labels.append(
                    GoldLabel(
                        criterion_id=CONTRACTNLI_CRITERIA[hypothesis],
                        grade=CONTRACTNLI_GRADES[annotation["choice"]],
                        evidence=_locate_all(locator, quotes),
                    )
                )
            yield LabelledDocument(document_id=str(entry["id"]), document=document, labels=labels)


def load_contractnli(path: Path) -> ContractNLISet:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        size = len(raw["documents"])
        unknown = set(raw["labels"]) - set(CONTRACTNLI_CRITERIA)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInputError(
            f"{path}: not a readable ContractNLI split ({type(exc).__name__})", code="bad_dataset"
        ) from None
    if unknown:
        raise BadInputError(f"{path}: unknown ContractNLI hypotheses {sorted(unknown)}", code="bad_dataset")
    return ContractNLISet(name=f"contractnli:{path.name}", rubric=load_rubric("contractnli"), size=size, path=path)
