"""A new evaluation between its upload and its start: the files already checked, the rubric, backend and
panel choices, kept on disk under the data directory so that a form shown again (a bad file, an estimate
to confirm) loses nothing. A draft belongs to the evaluator who made it and is gone after a day."""

import re
import secrets
import shutil
import time
import uuid
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

DRAFT_SECONDS = 24 * 3600
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class DraftFile(BaseModel):
    key: str  # the stored file's name inside the draft (never the uploaded name)
    name: str
    size: int
    format: str
    vendor: str | None = None  # the vendor name given on the estimate page


class Draft(BaseModel):
    id: str
    owner: str
    created_at: float
    rubric: str = "default"
    backend: str | None = None
    blind: bool = False
    files: list[DraftFile] = Field(default_factory=list)


class Drafts:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, draft_id: str) -> Path:
        if not _ID.match(draft_id):
            raise ValueError("not a draft id")
        return self.root / draft_id

    def create(self, owner: str) -> Draft:
        self.prune()
        draft = Draft(id=secrets.token_urlsafe(18), owner=owner, created_at=time.time())
        self._dir(draft.id).mkdir(parents=True)
        self.save(draft)
        return draft

    def get(self, draft_id: str, owner: str) -> Draft | None:
        """The owner's draft, or None (unknown, expired, someone else's, or not an id at all)."""
        try:
            draft = Draft.model_validate_json((self._dir(draft_id) / "draft.json").read_text())
        except (ValueError, OSError, ValidationError):
            return None
        if draft.owner != owner or draft.created_at + DRAFT_SECONDS < time.time():
            return None
        return draft

    def save(self, draft: Draft) -> None:
        path = self._dir(draft.id) / "draft.json"
        partial = path.with_name(f".draft.{uuid.uuid4().hex}")
        partial.write_text(draft.model_dump_json())
        partial.replace(path)

    def add_file(self, draft: Draft, name: str, data: bytes, file_format: str) -> DraftFile:
        added = DraftFile(key=uuid.uuid4().hex, name=name, size=len(data), format=file_format)
        (self._dir(draft.id) / added.key).write_bytes(data)
        draft.files.append(added)
        return added

    def drop_file(self, draft: Draft, key: str) -> None:
        draft.files = [f for f in draft.files if f.key != key]
        (self._dir(draft.id) / key).unlink(missing_ok=True)

    def read(self, draft: Draft, file: DraftFile) -> bytes:
        return (self._dir(draft.id) / file.key).read_bytes()

    def discard(self, draft_id: str) -> None:
        shutil.rmtree(self._dir(draft_id), ignore_errors=True)

    def prune(self, now: float | None = None) -> None:
        """Remove drafts older than a day (nobody confirmed them)."""
        if not self.root.is_dir():
            return
        cutoff = (now or time.time()) - DRAFT_SECONDS
        for path in self.root.iterdir():
            try:
                if path.is_dir() and path.stat().st_mtime < cutoff:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                continue
