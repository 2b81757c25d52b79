"""What every grading backend returns, the interface it implements, and how backends are found by name.

Built-in backends register through the same entry-point group ("reviewer.backends") that outside
plugins use, so a plugin is a package with one entry point and nothing else.
"""

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from reviewer.config import Settings
from reviewer.documents import Document
from reviewer.errors import ConfigurationError
from reviewer.notices import ReviewWarning
from reviewer.review import Grade, Usage
from reviewer.rubric import Rubric

ENTRY_POINT_GROUP = "reviewer.backends"


class RawCitation(BaseModel):
    page: int
    quote: str


class RawFinding(BaseModel):
    # Field order is the order a model writes them in: evidence, then reasoning, then the grade.
    criterion_id: str
    citations: list[RawCitation] = Field(default_factory=list)
    rationale: str
    grade: Grade
    clarification_question: str | None = None


class CriterionFailure(BaseModel):
    criterion_id: str
    reason: str


class InjectionReport(BaseModel):
    page: int
    quote: str


class RawGrading(BaseModel):
    """A backend's answer before verification and scoring."""

    findings: list[RawFinding] = Field(default_factory=list)
    failures: list[CriterionFailure] = Field(default_factory=list)
    injection_reports: list[InjectionReport] = Field(default_factory=list)
    vendor_name: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    usage: Usage = Field(default_factory=Usage)
    warnings: list[ReviewWarning] = Field(default_factory=list)
    details: dict[str, str] = Field(
        default_factory=dict, description="criterion id -> the figures behind its grade (Finding.details)"
    )


@runtime_checkable
class GradingBackend(Protocol):
    name: str
    offline: bool

    async def grade(self, document: Document, rubric: Rubric) -> RawGrading: ...


BackendConstructor = Callable[[Settings], GradingBackend]  # what an entry point names


def backend_names() -> list[str]:
    """Every installed backend, by name, without importing any of them."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def backend_entry_points(name: str) -> list[str]:
    """What provides the named backend ("module:function" of each entry point by that name), without importing it."""
    return [ep.value for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]


def resolve_backend_name(requested: str | None, settings: Settings) -> str:
    name = requested or settings.grading.backend
    if name == "auto":
        return "anthropic" if settings.has_api_key else "offline"
    return name


def create_backend(name: str, settings: Settings) -> GradingBackend:
    """The named backend; only its own entry point is loaded, so an offline review never imports an SDK."""
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not matches:
        known = ", ".join(backend_names()) or "none installed"
        raise ConfigurationError(f"unknown backend '{name}' (available: {known})", code="unknown_backend")
    return matches[0].load()(settings)
