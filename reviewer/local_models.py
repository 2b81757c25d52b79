"""Licensed stance models a user can put in place with one command (`reviewer models fetch NAME`).

The offline grader's stance engine loads any ONNX NLI cross-encoder from a folder (reviewer.grading.stance);
no licensed model ships inside a package on the registries we reach, so this downloads a known one from
the Hugging Face Hub (or a mirror of it: REVIEWER_MODELS_BASE_URL) into REVIEWER_MODELS_DIR/NAME, once,
where the network allows. Nothing is ever downloaded at review time.

Each file is streamed to a temporary folder, bounded in size, and checked against the SHA-256 the Hub
publishes for it (the `X-Linked-Etag` of a stored file) when it publishes one; the folder takes its name
only when every file arrived whole, with a SOURCE.json saying where it came from (repository, revision,
licence, each file's SHA-256). The model is then loaded once, when the engine is installed, so a broken
download is found now rather than at the first review.
"""

import hashlib
import json
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from reviewer.errors import ConfigurationError, ReviewerError

DEFAULT_BASE_URL = "https://huggingface.co"
MAX_FILE_BYTES = 1024 * 1024 * 1024
CHUNK = 1024 * 1024
SOURCE_FILE = "SOURCE.json"
_SHA256 = re.compile(r'^(?:W/)?"?([0-9a-f]{64})"?$')


class KnownModel(BaseModel):
    name: str
    repository: str = Field(description="the Hugging Face repository")
    licence: str
    files: dict[str, str] = Field(description="file name in the model folder -> path in the repository")
    approximate_mb: int
    about: str


KNOWN_MODELS: dict[str, KnownModel] = {
    m.name: m
    for m in (
        KnownModel(
            name="nli-deberta-v3-xsmall",
            repository="cross-encoder/nli-deberta-v3-xsmall",
            licence="Apache-2.0",
            files={
                "model.onnx": "onnx/model_quint8_avx2.onnx",
                "tokenizer.json": "tokenizer.json",
                "config.json": "config.json",
            },
            approximate_mb=97,
            about="DeBERTa-v3-xsmall NLI cross-encoder (SNLI + MultiNLI), int8 ONNX by the sentence-transformers team",
        ),
        KnownModel(
            name="nli-deberta-v3-small",
            repository="cross-encoder/nli-deberta-v3-small",
            licence="Apache-2.0",
            files={
                "model.onnx": "onnx/model_quint8_avx2.onnx",
                "tokenizer.json": "tokenizer.json",
                "config.json": "config.json",
            },
            approximate_mb=182,
            about="DeBERTa-v3-small NLI cross-encoder (SNLI + MultiNLI), int8 ONNX; slower, stronger",
        ),
    )
}


class FetchedFile(BaseModel):
    name: str
    source: str
    bytes: int
    sha256: str
    checked_against_hub: bool = Field(description="the Hub published a SHA-256 for it and it matched")


class ModelSource(BaseModel):
    """SOURCE.json of a fetched model folder."""

    name: str
    repository: str
    revision: str | None = Field(description="the repository commit served (X-Repo-Commit), when given")
    licence: str
    base_url: str
    fetched_at: datetime
    files: list[FetchedFile]


class ModelFetchError(ReviewerError):
    code = "model_fetch_failed"


def unknown_model_error(name: str) -> ConfigurationError:
    return ConfigurationError(f"unknown model {name!r}; known: {', '.join(KNOWN_MODELS)}", code="unknown_model")


def installed_folder(models_dir: Path, name: str) -> Path | None:
    """A fetched model's folder, if it is there whole (its SOURCE.json is written last)."""
    folder = models_dir / name
    return folder if (folder / SOURCE_FILE).is_file() else None


def _expected_sha256(response) -> str | None:
    for header in ("x-linked-etag", "etag"):
        for step in [*response.history, response]:
            if (value := step.headers.get(header)) and (match := _SHA256.match(value.strip())):
                return match.group(1)
    return None


def _download(client, url: str, target: Path, max_bytes: int) -> tuple[int, str, str | None, str | None]:
    """Stream `url` into `target`; (bytes, sha256, the Hub's sha256 or None, the revision served or None)."""
    import httpx2

    digest = hashlib.sha256()
    size = 0
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise ModelFetchError(f"{url}: the server answered HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise ModelFetchError(f"{url}: {int(declared):,} bytes, more than the {max_bytes:,} allowed")
            with target.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ModelFetchError(f"{url}: more than the {max_bytes:,} bytes allowed")
                    digest.update(chunk)
                    out.write(chunk)
            revision = next(
                (s.headers["x-repo-commit"] for s in [*response.history, response] if "x-repo-commit" in s.headers),
                None,
            )
            return size, digest.hexdigest(), _expected_sha256(response), revision
    except httpx2.HTTPError as exc:
        raise ModelFetchError(f"{url}: {type(exc).__name__}: {exc}") from None


def fetch_model(
    name: str,
    models_dir: Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    force: bool = False,
    max_file_bytes: int = MAX_FILE_BYTES,
    timeout_seconds: float = 60.0,
) -> tuple[Path, ModelSource]:
    """Download a known model into models_dir/name; raises ModelFetchError (nothing is left behind) or
    ConfigurationError for an unknown name or a folder already there (without force)."""
    import httpx2

    model = KNOWN_MODELS.get(name)
    if model is None:
        raise unknown_model_error(name)
    folder = models_dir / name
    if folder.exists() and not force:
        raise ConfigurationError(f"{folder} exists already; --force fetches it again", code="model_exists")
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".{name}."))
    base = base_url.rstrip("/")
    try:
        fetched: list[FetchedFile] = []
        revision = None
        with httpx2.Client(follow_redirects=True, timeout=timeout_seconds) as client:
            for file_name, source in model.files.items():
                url = f"{base}/{model.repository}/resolve/main/{source}"
                size, sha256, published, served = _download(client, url, staging / file_name, max_file_bytes)
                if published is not None and published != sha256:
                    raise ModelFetchError(f"{url}: the file's SHA-256 is not the one the server publishes for it")
                revision = revision or served
                fetched.append(
                    FetchedFile(
                        name=file_name, source=source, bytes=size, sha256=sha256, checked_against_hub=bool(published)
                    )
                )
        record = ModelSource(
            name=name,
            repository=model.repository,
            revision=revision,
            licence=model.licence,
            base_url=base,
            fetched_at=datetime.now(UTC),
            files=fetched,
        )
        (staging / SOURCE_FILE).write_text(record.model_dump_json(indent=2) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
        return folder, record
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_source(folder: Path) -> ModelSource | None:
    try:
        return ModelSource.model_validate(json.loads((folder / SOURCE_FILE).read_text()))
    except (OSError, ValueError):
        return None
