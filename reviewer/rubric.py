"""Rubrics are data: models, loading from YAML or TOML, and the location of the bundled rubrics."""

import hashlib
import logging
import re
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from reviewer.errors import RubricError
from reviewer.review import Grade

log = logging.getLogger(__name__)

BUNDLED_RUBRICS_DIR = Path(__file__).parent / "rubrics"
DEFAULT_RUBRIC = "default"
RUBRIC_SUFFIXES = (".yaml", ".yml", ".toml")
UPLOADED_RUBRICS_DIR = "rubrics"  # under the data directory
UPLOADED_PREFIX = "uploaded-"
MAX_RUBRIC_BYTES = 512 * 1024

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SnakeCaseId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class CriterionKind(StrEnum):
    VENDOR = "vendor"
    CONTRACT = "contract"


class Guidance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    met: str = Field(min_length=1, description="What a proposal that fully meets the criterion says.")
    partial: str | None = Field(
        default=None,
        min_length=1,
        description="What a proposal that partly meets it says (if the rubric uses partial).",
    )
    red_flag: str = Field(min_length=1, description="What runs against the criterion.")


class RequirementSource(BaseModel):
    """One RFP requirement of a criterion that groups several (reviewer rubric from-rfp --group)."""

    model_config = ConfigDict(extra="forbid")

    reference: str | None = Field(default=None, description="The RFP's own clause number.")
    strength: Literal["must", "should", "may"]
    text: str = Field(min_length=1, description="The requirement in the RFP's own words.")
    page: int = Field(ge=1, description="The RFP page it is on.")
    quote: str = Field(min_length=1, description="The requirement verbatim from the RFP (verified).")


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: SnakeCaseId
    title: str = Field(min_length=1)
    kind: CriterionKind
    weight: float = Field(gt=0, le=100)
    description: str = Field(min_length=1, description="What the criterion asks of the proposal.")
    guidance: Guidance
    keywords: list[str] = Field(
        default_factory=list, description="Terms a passage about this criterion is likely to use."
    )
    question: str | None = Field(
        default=None, description="The default question to put to a vendor that does not meet it."
    )
    # Set on criteria drawn from an RFP (reviewer rubric from-rfp); other rubrics leave them out.
    reference: str | None = Field(default=None, description="The RFP's own clause number, e.g. '3.2.1', 'A.4', 'R-12'.")
    strength: Literal["must", "should", "may"] | None = Field(
        default=None, description="How the RFP words it: must/shall (mandatory), should (desirable), may (optional)."
    )
    mandatory: bool = Field(default=False, description="A proposal failing it fails the RFP's mandatory requirements.")
    source_page: int | None = Field(default=None, ge=1, description="The RFP page the requirement is on.")
    source_quote: str | None = Field(default=None, description="The requirement verbatim from the RFP.")
    members: list[RequirementSource] = Field(
        default_factory=list,
        description="When the criterion groups closely related RFP requirements: each one with its source "
        "(its strength is then the strongest member's).",
    )

    @property
    def default_question(self) -> str:
        return " ".join((self.question or f"How does your proposal address: {self.title}?").split())


class OfflineCalibration(BaseModel):
    """Decision thresholds of the offline grader, calibrated for this rubric on a labelled set
    (see bench/offline_calibration.py). Rubrics without it use the grader's defaults."""

    model_config = ConfigDict(extra="forbid")

    present_threshold: float | None = Field(default=None, ge=0)
    red_flag_margin: float | None = Field(default=None, ge=0)


class Rubric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: SnakeCaseId
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    grades: list[Grade] = Field(
        default_factory=lambda: list(Grade),
        description="The grades this rubric uses; e.g. a yes/no/contradicted rubric leaves out 'partial'.",
    )
    criteria: list[Criterion] = Field(min_length=1)
    offline: OfflineCalibration = Field(default_factory=OfflineCalibration)
    blind: bool = Field(
        default=False,
        description="Grade with blind model input: vendor, product and people's names, emails, phone numbers and "
        "URLs are replaced by placeholders before the document is sent to a model (as --blind does).",
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        """`version: 2` or `version: 0.1` unquoted is a number in YAML and TOML: keep it, as text."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    @model_validator(mode="after")
    def _ids_are_unique(self) -> "Rubric":
        seen: set[str] = set()
        for criterion in self.criteria:
            if criterion.id in seen:
                raise ValueError(f"criterion id '{criterion.id}' appears more than once")
            seen.add(criterion.id)
        return self

    @model_validator(mode="after")
    def _grades_are_usable(self) -> "Rubric":
        if not {Grade.MET, Grade.MISSING} <= set(self.grades):
            raise ValueError("grades must include 'met' and 'missing'")
        if Grade.PARTIAL in self.grades:
            lacking = [c.id for c in self.criteria if not c.guidance.partial]
            if lacking:
                raise ValueError(f"criteria {lacking} need guidance.partial (or leave 'partial' out of grades)")
        return self

    def allows(self, grade: Grade) -> bool:
        return grade in self.grades

    @property
    def criterion_ids(self) -> list[str]:
        return [c.id for c in self.criteria]

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)


def _describe_location(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "criteria" and isinstance(loc[1], int):
        index = loc[1]
        criteria = raw.get("criteria") or []
        crit_id = criteria[index].get("id") if index < len(criteria) and isinstance(criteria[index], dict) else None
        who = f"criterion '{crit_id}'" if crit_id else f"criterion #{index + 1}"
        rest = ".".join(str(p) for p in loc[2:])
        return f"{who}, field '{rest}'" if rest else who
    return f"field '{'.'.join(str(p) for p in loc)}'" if loc else "rubric"


def parse_rubric(raw: Any, source: str) -> Rubric:
    if not isinstance(raw, dict):
        raise RubricError(f"{source}: a rubric must be a mapping with id, version, title and criteria")
    try:
        return Rubric.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_describe_location(e['loc'], raw)}: {e['msg']}" for e in exc.errors()]
        raise RubricError(f"{source}: " + "; ".join(problems)) from None


def _syntax_error(path: Path, exc: Exception) -> str:
    """One line: the file, where in it (path:line:column, 1-based) and what the parser found there."""
    kind = path.suffix.lstrip(".").upper()
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark, start = exc.problem_mark, exc.context_mark
        context = exc.context or ""
        if context and start is not None and start.line != mark.line:
            context += f" (from line {start.line + 1})"
        problem = ": ".join(filter(None, (context, exc.problem))) or "syntax error"
        return f"{path}:{mark.line + 1}:{mark.column + 1}: not valid {kind}: {problem}"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if where := _TOML_POSITION.search(text):  # tomllib: "Invalid value (at line 2, column 9)"
        problem = text[: where.start()].rstrip() or "syntax error"
        return f"{path}:{where['line']}:{where['column']}: not valid {kind}: {problem}"
    return f"{path}: not valid {kind}: {text}"


_TOML_POSITION = re.compile(r"\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$")


def load_rubric_file(path: Path) -> Rubric:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError(f"{path}: cannot read rubric ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise RubricError(f"{path}: cannot read rubric (not UTF-8 text)") from None
    return parse_rubric_text(text, path)


def parse_rubric_text(text: str, path: Path) -> Rubric:
    """A rubric file's text, read as its suffix says; errors name `path` (a file on disk, or an upload's name)."""
    if path.suffix == ".toml":
        import tomllib

        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RubricError(_syntax_error(path, exc)) from None
    else:
        try:
            raw = yaml.load(text, Loader=_YAML_LOADER)
        except yaml.YAMLError as exc:
            raise RubricError(_syntax_error(path, exc)) from None
    return parse_rubric(raw, str(path))


def bundled_rubric_names() -> list[str]:
    return sorted(p.stem for p in BUNDLED_RUBRICS_DIR.iterdir() if p.suffix in RUBRIC_SUFFIXES)


def load_rubric(name_or_path: str | Path | None = None) -> Rubric:
    """A bundled rubric by name ('default'), or a rubric file by path."""
    ref = str(name_or_path or DEFAULT_RUBRIC)
    path = Path(ref)
    if path.suffix in RUBRIC_SUFFIXES or path.exists():
        if not path.is_file():
            raise RubricError(f"{ref}: no such rubric file")
        return load_rubric_file(path)
    for suffix in RUBRIC_SUFFIXES:
        candidate = BUNDLED_RUBRICS_DIR / f"{ref}{suffix}"
        if candidate.is_file():
            return load_rubric_file(candidate)
    raise RubricError(
        f"unknown rubric '{ref}': give a file path or one of: {', '.join(bundled_rubric_names())}",
        code="unknown_rubric",
    )


_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class SettingsWithRubrics(Protocol):
    rubrics_dir: Path | None


class RubricCatalog:
    """Rubrics a service may use, by name: an optional directory of the team's own files first, then the
    bundled ones. Lookup is by name or rubric id, never by path, so requests cannot reach other files."""

    def __init__(
        self, extra_dir: Path | None = None, *, more_dirs: tuple[Path, ...] = (), uploads_dir: Path | None = None
    ) -> None:
        self.uploads_dir = uploads_dir
        self.directories = [d for d in (*more_dirs, extra_dir, uploads_dir, BUNDLED_RUBRICS_DIR) if d is not None]
        self._parsed: dict[Path, tuple[int, Rubric]] = {}

    @classmethod
    def from_settings(cls, settings: "SettingsWithRubrics") -> "RubricCatalog":
        """The catalog every command and route uses: the team's REVIEWER_RUBRICS_DIR, the rubric files
        uploaded through the web app (kept in the data directory), then the bundled ones."""
        storage = settings.storage
        return cls(storage.rubrics_dir, uploads_dir=storage.data_dir / UPLOADED_RUBRICS_DIR)

    def add_upload(self, data: bytes, file_name: str) -> str:
        """Keep an uploaded rubric file and return its catalog name (`uploaded-<id>-<hash>`: the same file
        uploaded twice is one entry). Checked as `reviewer rubrics --check` checks a file, with the same
        errors, under the upload's own name; raises RubricError."""
        path = Path(Path(file_name.replace("\\", "/")).name or "rubric.yaml")
        if path.suffix not in RUBRIC_SUFFIXES:
            raise RubricError(f"{path}: a rubric file ends in {', '.join(RUBRIC_SUFFIXES)}")
        if len(data) > MAX_RUBRIC_BYTES:
            raise RubricError(f"{path}: a rubric file is at most {MAX_RUBRIC_BYTES // 1024} KB")
        if self.uploads_dir is None:
            raise RubricError("this server keeps no uploaded rubrics", code="configuration")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise RubricError(f"{path}: cannot read rubric (not UTF-8 text)") from None
        rubric = parse_rubric_text(text, path)
        name = f"{UPLOADED_PREFIX}{rubric.id[:40]}-{hashlib.sha256(data).hexdigest()[:8]}"
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        target = self.uploads_dir / f"{name}{path.suffix}"
        if not target.exists():
            partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
            partial.write_bytes(data)
            partial.replace(target)
        return name

    def for_reference(self, ref: str | Path | None) -> tuple["RubricCatalog", str]:
        """(catalog, name) for what a person typed on the command line: a name or id in this catalog,
        or a path to a rubric file, whose folder is then searched first. Services never take paths."""
        ref = str(ref or DEFAULT_RUBRIC)
        path = Path(ref)
        if path.suffix in RUBRIC_SUFFIXES or (path.exists() and not _NAME.match(ref)):
            if not path.is_file():
                raise RubricError(f"{ref}: no such rubric file", code="unknown_rubric")
            load_rubric_file(path)  # its own errors (file, criterion, field), before anything runs
            catalog = RubricCatalog(more_dirs=(path.resolve().parent, *self.directories[:-1]))
            return catalog, path.stem
        self.load(ref)
        return self, ref

    def _load_file(self, path: Path) -> Rubric:
        """Parsed once per file version: requests must not pay for YAML parsing."""
        stamp = path.stat().st_mtime_ns
        cached = self._parsed.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, load_rubric_file(path))
            self._parsed[path] = cached
        return cached[1]

    def _files(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for directory in reversed(self.directories):  # earlier directories win
            if directory.is_dir():
                found.update({p.stem: p for p in directory.iterdir() if p.suffix in RUBRIC_SUFFIXES})
        return found

    def names(self) -> list[str]:
        return sorted(self._files())

    def origin(self, name: str) -> str:
        """Where a rubric of this catalog comes from: "bundled", "uploaded" (the web app's), or "team"."""
        path = self._files().get(name)
        if path is None or path.parent == BUNDLED_RUBRICS_DIR:
            return "bundled"
        return "uploaded" if self.uploads_dir is not None and path.parent == self.uploads_dir else "team"

    def _load_named(self, name: str, path: Path) -> Rubric:
        """A file's rubric; its error names the file, never the directory it is in (a server's layout)."""
        try:
            return self._load_file(path)
        except RubricError as exc:
            raise RubricError(exc.message.replace(str(path), path.name), code=exc.code) from None

    def problems(self) -> dict[str, str]:
        """Every rubric file that does not load, by name, with why (file names only, no paths)."""
        found = {}
        for name, path in self._files().items():
            try:
                self._load_named(name, path)
            except RubricError as exc:
                found[name] = exc.message
        return found

    def usable(self) -> list[tuple[str, Rubric]]:
        """(name, rubric) for every file that loads; a broken one is skipped with a warning in the log."""
        out = []
        for name, path in sorted(self._files().items()):
            try:
                out.append((name, self._load_named(name, path)))
            except RubricError as exc:
                log.warning("rubric file skipped: %s", exc.message)
        return out

    def load(self, name: str) -> Rubric:
        files = self._files()
        if _NAME.match(name) and name in files:
            return self._load_named(name, files[name])
        for file_name, path in files.items():  # by id: a broken file elsewhere must not stop the lookup
            try:
                rubric = self._load_named(file_name, path)
            except RubricError:
                continue
            if rubric.id == name:
                return rubric
        raise RubricError(f"unknown rubric '{name}' (available: {', '.join(sorted(files))})", code="unknown_rubric")

    def resolve(self, name: str) -> tuple[str, Rubric]:
        """(file name, rubric) for a name or id; a file's own name is kept, even when another file
        carries the same rubric id (an uploaded edit of a bundled rubric)."""
        files = self._files()
        if _NAME.match(name) and name in files:
            return name, self._load_named(name, files[name])
        rubric = self.load(name)
        for file_name, loaded in self.usable():
            if loaded.id == rubric.id:
                return file_name, rubric
        return name, rubric
