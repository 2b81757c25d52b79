"""The proposals a bulk run is given: folders (searched recursively), zip files (their .pdf members) and
PDF files, each with a display name and a way to read its bytes; and the file -> vendor mapping."""

import csv
import io
import json
import zipfile
import zlib
from pathlib import Path

import yaml
from pydantic import BaseModel

from reviewer.documents import safe_file_name
from reviewer.errors import BadInputError

MAX_ZIP_MEMBERS = 1000
ZIP_ENCRYPTED = 0x1  # general purpose flag bit 0


class Source(BaseModel):
    """One proposal to review: a display name and where its bytes come from."""

    name: str
    path: Path
    member: str | None = None  # inside a zip file

    def read(self, max_bytes: int) -> bytes:
        if self.member is None:
            if self.path.stat().st_size > max_bytes:
                raise BadInputError(f"{self.name}: over the size limit", code="too_large")
            return self.path.read_bytes()
        try:
            with zipfile.ZipFile(self.path) as archive:
                info = archive.getinfo(self.member)
                if info.file_size > max_bytes:
                    raise BadInputError(f"{self.name}: over the size limit", code="too_large")
                if info.flag_bits & ZIP_ENCRYPTED:
                    raise BadInputError(
                        f"{self.name}: encrypted inside {self.path.name}; unzip it with its password first",
                        code="encrypted",
                    )
                with archive.open(info) as handle:
                    data = handle.read(max_bytes + 1)
        except NotImplementedError:
            raise BadInputError(
                f"{self.name}: stored in {self.path.name} with a compression method we cannot read", code="bad_zip"
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError):
            raise BadInputError(
                f"{self.name}: damaged inside {self.path.name} (its compressed data cannot be read back)",
                code="bad_zip",
            ) from None
        if len(data) > max_bytes:
            raise BadInputError(f"{self.name}: over the size limit", code="too_large")
        return data


def collect_sources(paths: list[Path]) -> list[Source]:
    """PDFs from folders (recursively), zip files (their .pdf members) and PDF files, by name, once each."""
    sources: dict[str, Source] = {}

    def add(source: Source) -> None:
        name, n = source.name, 2
        while name in sources:  # two files of the same name in different folders
            name = f"{Path(source.name).stem} ({n}){Path(source.name).suffix}"
            n += 1
        sources[name] = source.model_copy(update={"name": name})

    for path in paths:
        if path.is_dir():
            for pdf in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf"):
                add(Source(name=safe_file_name(pdf.name), path=pdf))
        elif path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [
                    m
                    for m in archive.infolist()
                    if not m.is_dir() and m.filename.lower().endswith(".pdf") and "__MACOSX" not in m.filename
                ]
            if len(members) > MAX_ZIP_MEMBERS:
                raise BadInputError(f"{path}: more than {MAX_ZIP_MEMBERS} PDFs in the zip", code="too_many_files")
            for member in sorted(members, key=lambda m: m.filename):
                add(Source(name=safe_file_name(member.filename), path=path, member=member.filename))
        elif path.is_file():
            add(Source(name=safe_file_name(path.name), path=path))
        else:
            raise BadInputError(f"{path}: no such file or folder", code="unreadable_file")
    if not sources:
        raise BadInputError("no PDF files found in the given paths", code="no_inputs")
    return list(sources.values())


def load_vendor_mapping(path: Path) -> dict[str, str]:
    """File name -> vendor name, from YAML/JSON (a mapping) or CSV (two columns: file, vendor)."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".csv":
            rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
            if rows and rows[0][0].strip().lower() in {"file", "file_name", "filename"}:
                rows = rows[1:]
            mapping = {r[0].strip(): r[1].strip() for r in rows if len(r) >= 2}
        else:
            mapping = yaml.safe_load(text) if path.suffix.lower() in {".yaml", ".yml"} else json.loads(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise BadInputError(
            f"{path}: cannot read the vendor mapping ({type(exc).__name__})", code="bad_mapping"
        ) from None
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise BadInputError(f"{path}: the vendor mapping must map file names to vendor names", code="bad_mapping")
    return mapping
