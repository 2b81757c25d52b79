"""Labelled sets the evaluation reads: the project's samples and ContractNLI.

A labelled set is a rubric plus documents, each with a gold grade per criterion and, where the
grade rests on text, the gold evidence located in our own page text (page and character range).
Documents (PDFs, page text, indexes) are built one at a time, as the evaluation reaches them; a
ContractNLI split is checked whole when it is loaded, so a malformed file fails before any work.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from reviewer.citations import QuoteLocator
from reviewer.config import IngestSettings
from reviewer.documents import HEADER_SEARCH_BYTES, PDF_MAGIC, Document, read_pdf
from reviewer.errors import BadInputError
from reviewer.review import Grade
from reviewer.rubric import RUBRIC_SUFFIXES, Rubric, RubricCatalog, load_rubric

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
    quotes_not_found: list[str] = Field(
        default_factory=list, description="Gold quotes absent from our page text: they cannot count as evidence."
    )


class LabelledDocument(BaseModel):
    document_id: str
    document: Document
    labels: list[GoldLabel]
    vendor: str | None = Field(
        default=None, description="The vendor's name, when the labels give it (blind runs mask it)."
    )


class LabelledSet(BaseModel):
    name: str
    rubric: Rubric
    size: int
    model_config = {"arbitrary_types_allowed": True}

    def documents(self) -> Iterator[LabelledDocument]:  # overridden by each set
        raise NotImplementedError


def _locate_all(locator: QuoteLocator, quotes: list[tuple[int, str]]) -> tuple[list[EvidenceSpan], list[str]]:
    """Gold quotes as spans of our own page text, and the quotes that could not be found there."""
    spans, not_found = [], []
    for page, quote in quotes:
        citation = locator.locate(page, quote)
        if citation.verified and citation.start is not None and citation.end is not None:
            spans.append(EvidenceSpan(page=citation.page, start=citation.start, end=citation.end))
        else:
            not_found.append(quote)
    return spans, not_found


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


class LabelEntry(BaseModel):
    grade: Grade
    page: int | None = Field(default=None, ge=1)
    quote: str | None = None

    @model_validator(mode="after")
    def _quote_has_a_page(self) -> "LabelEntry":
        if self.quote and self.page is None:
            raise ValueError("a quote needs the page it is on")
        return self


class LabelledProposal(BaseModel):
    vendor: str | None = None
    labels: dict[str, LabelEntry] = Field(min_length=1)


class LabelsFile(BaseModel):
    """labels.yaml of a folder of labelled proposals (the project's samples/ is one)."""

    rubric: str = "default"
    documents: dict[str, LabelledProposal] = Field(min_length=1)


class SamplesSet(LabelledSet):
    """A folder of proposal PDFs and their gold labels (labels.yaml): the project's samples, or a
    buyer's own labelled responses to an earlier RFP."""

    directory: Path
    entries: LabelsFile

    def documents(self) -> Iterator[LabelledDocument]:
        for name, entry in self.entries.documents.items():
            path = self.directory / name
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise BadInputError(
                    f"{path}: cannot read the labelled PDF ({exc.strerror})", code="bad_dataset"
                ) from None
            try:
                document = read_pdf(data, name, limits=IngestSettings())
            except BadInputError as exc:
                raise BadInputError(f"{path}: {exc.message}", code="bad_dataset") from None
            locator = QuoteLocator(document)
            labels = []
            for cid, label in entry.labels.items():
                quotes = [(label.page, label.quote)] if label.quote and label.page else []
                evidence, not_found = _locate_all(locator, quotes)
                labels.append(
                    GoldLabel(criterion_id=cid, grade=label.grade, evidence=evidence, quotes_not_found=not_found)
                )
            yield LabelledDocument(document_id=name, document=document, labels=labels, vendor=entry.vendor)


def _starts_like_a_pdf(path: Path) -> bool:
    with path.open("rb") as handle:
        return PDF_MAGIC in handle.read(HEADER_SEARCH_BYTES)


def _labels_rubric(directory: Path, reference: str) -> Rubric:
    """The rubric a labels file names: a rubric file beside it, or a bundled rubric by name or id."""
    if Path(reference).suffix in RUBRIC_SUFFIXES:
        return load_rubric(directory / reference)
    return RubricCatalog().load(reference)


def load_samples(directory: Path = SAMPLES_DIR) -> SamplesSet:
    path = directory / "labels.yaml"
    if not path.is_file():
        raise BadInputError(f"{path}: no labels file", code="no_labels")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = LabelsFile.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise BadInputError(f"{path}: not a readable labels file ({type(exc).__name__})", code="bad_dataset") from None
    except ValidationError as exc:
        raise BadInputError(f"{path}: not a labels file: {_first_error(exc)}", code="bad_dataset") from None
    rubric = _labels_rubric(directory, entries.rubric)
    problems = []
    for name, entry in entries.documents.items():
        if not (directory / name).is_file():
            problems.append(f"{name}: no such file in {directory}")
        elif not _starts_like_a_pdf(directory / name):
            problems.append(f"{name}: not a PDF (no %PDF- header)")
        for cid, label in entry.labels.items():
            if cid not in rubric.criterion_ids:
                problems.append(f"{name}: criterion '{cid}' is not in rubric {rubric.id}")
            elif not rubric.allows(label.grade):
                problems.append(f"{name}: {cid}: grade '{label.grade.value}' is not used by rubric {rubric.id}")
    if problems:
        raise BadInputError(
            f"{path}: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            code="bad_dataset",
        )
    name = "samples" if directory.resolve() == SAMPLES_DIR.resolve() else f"labelled:{directory.name}"
    return SamplesSet(name=name, rubric=rubric, size=len(entries.documents), directory=directory, entries=entries)


class ContractNLIAnnotation(BaseModel):
    choice: Literal["Entailment", "Contradiction", "NotMentioned"]
    spans: list[int]


class ContractNLIAnnotationSet(BaseModel):
    annotations: dict[str, ContractNLIAnnotation]


class ContractNLIDocument(BaseModel):
    id: int | str
    file_name: str
    text: str
    spans: list[tuple[int, int]]
    annotation_sets: list[ContractNLIAnnotationSet] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_are_in_range(self) -> "ContractNLIDocument":
        for start, end in self.spans:
            if not 0 <= start <= end <= len(self.text):
                raise ValueError(f"span [{start}, {end}] is outside the text ({len(self.text)} characters)")
        for hypothesis, annotation in self.annotation_sets[0].annotations.items():
            if hypothesis not in CONTRACTNLI_CRITERIA:
                raise ValueError(f"unknown ContractNLI hypothesis {hypothesis!r}")
            if any(not 0 <= i < len(self.spans) for i in annotation.spans):
                raise ValueError(f"{hypothesis}: a span index is out of range (the document has {len(self.spans)})")
        return self


class ContractNLIFile(BaseModel):
    labels: dict[str, Any]
    documents: list[ContractNLIDocument]


class ContractNLISet(LabelledSet):
    split: ContractNLIFile

    def documents(self) -> Iterator[LabelledDocument]:
        for entry in self.split.documents:
            document = Document.from_text(entry.text, entry.file_name)
            locator = QuoteLocator(document)
            labels = []
            for hypothesis, annotation in entry.annotation_sets[0].annotations.items():
                quotes = []
                for index in annotation.spans:
                    start, end = entry.spans[index]
                    quotes.append((1, entry.text[start:end]))
                evidence, not_found = _locate_all(locator, quotes)
                labels.append(
                    GoldLabel(
                        criterion_id=CONTRACTNLI_CRITERIA[hypothesis],
                        grade=CONTRACTNLI_GRADES[annotation.choice],
                        evidence=evidence,
                        quotes_not_found=not_found,
                    )
                )
            yield LabelledDocument(document_id=str(entry.id), document=document, labels=labels)


def load_contractnli(path: Path) -> ContractNLISet:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInputError(
            f"{path}: not a readable ContractNLI split ({type(exc).__name__})", code="bad_dataset"
        ) from None
    try:
        split = ContractNLIFile.model_validate(raw)
    except ValidationError as exc:
        raise BadInputError(f"{path}: not a ContractNLI split: {_first_error(exc)}", code="bad_dataset") from None
    unknown = set(split.labels) - set(CONTRACTNLI_CRITERIA)
    if unknown:
        raise BadInputError(f"{path}: unknown ContractNLI hypotheses {sorted(unknown)}", code="bad_dataset")
    return ContractNLISet(
        name=f"contractnli:{path.name}", rubric=load_rubric("contractnli"), size=len(split.documents), split=split
    )
