"""The proposals a bulk run is given: folders (searched recursively), zip files (their .pdf and .docx
members) and PDF or Word files, each with a display name and a way to read its bytes; and the file -> vendor mapping.

An input that cannot be used (a zip over the member limit or unreadable, a link out of its folder) is
still a Source: it carries its reason, and reading it raises that reason, so it fails alone and its row
appears in the outputs. Each zip is opened once; its members are read through that one handle."""

import csv
import io
import json
import os
import threading
import zipfile
import zlib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from reviewer.documents import safe_file_name
from reviewer.docx_extract import DOCX_MAIN_PART
from reviewer.errors import BadInputError

MAX_ZIP_MEMBERS = 1000  # every member counts (folders, filler, PDFs): the central directory is read whole
ZIP_ENCRYPTED = 0x1  # general purpose flag bit 0


class ZipArchive:
    """One zip file of a run, opened once and shared by the sources of its members."""

    def __init__(self, path: Path, handle: zipfile.ZipFile) -> None:
        self.path = path
        self.handle = handle
        self.lock = threading.Lock()  # reads run in worker threads; a ZipFile has one file position

    def close(self) -> None:
        self.handle.close()


class Source(BaseModel):
    """One proposal to review: a display name and where its bytes come from (or why it cannot be read)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    path: Path
    member: str | None = None  # inside a zip file
    archive: ZipArchive | None = None
    info: zipfile.ZipInfo | None = None  # the member itself: two members may share a name
    error: str | None = None
    error_code: str = "bad_input"

    def read(self, max_bytes: int) -> bytes:
        if self.error is not None:
            raise BadInputError(self.error, code=self.error_code)
        if self.info is None or self.archive is None:
            if self.path.stat().st_size > max_bytes:
                raise BadInputError(f"{self.name}: over the size limit", code="too_large")
            return self.path.read_bytes()
        return self._read_member(max_bytes)

    def _read_member(self, max_bytes: int) -> bytes:
        info, where = self.info, self.path.name
        if info.file_size > max_bytes:
            raise BadInputError(f"{self.name}: over the size limit", code="too_large")
        if info.flag_bits & ZIP_ENCRYPTED:
            raise BadInputError(
                f"{self.name}: encrypted inside {where}; unzip it with its password first", code="encrypted"
            )
        try:
            with self.archive.lock, self.archive.handle.open(info) as handle:
                data = handle.read(max_bytes + 1)
        except NotImplementedError:
            raise BadInputError(
                f"{self.name}: stored in {where} with a compression method we cannot read", code="bad_zip"
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, OSError, ValueError):
            raise BadInputError(
                f"{self.name}: damaged inside {where} (its compressed data cannot be read back)", code="bad_zip"
            ) from None
        if len(data) > max_bytes:
            raise BadInputError(f"{self.name}: over the size limit", code="too_large")
        return data


def close_sources(sources: list[Source]) -> None:
    for archive in {id(s.archive): s.archive for s in sources if s.archive is not None}.values():
        archive.close()


def _is_proposal_name(name: str) -> bool:
    return name.lower().endswith((".pdf", ".docx"))


def _folder_sources(folder: Path) -> list[Source]:
    """Every PDF and .docx under the folder; links to folders are not entered, links out of it not followed."""
    root = folder.resolve()
    found: list[Source] = []
    for dirpath, _, files in os.walk(folder, followlinks=False):
        for file_name in files:
            if not _is_proposal_name(file_name):
                continue
            path = Path(dirpath) / file_name
            name = safe_file_name(file_name)
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    found.append(
                        Source(
                            name=name,
                            path=path,
                            error=f"{name}: a link to a file outside {folder.name}; not followed",
                            error_code="outside_folder",
                        )
                    )
                    continue
                path = target
            if path.is_file():
                found.append(Source(name=name, path=path))
    return sorted(found, key=lambda s: str(s.path))


def _declared_members(path: Path) -> int | None:
    """The member count the zip's end record declares, read before its directory is parsed, so a zip of
    millions of entries is refused without building them all (zipfile's own reader; zip64 included)."""
    try:
        with path.open("rb") as handle:
            end = zipfile._EndRecData(handle)  # private, stable since Python 2; no public equivalent
        return None if end is None else int(end[zipfile._ECD_ENTRIES_TOTAL])
    except (AttributeError, OSError, IndexError, TypeError, ValueError):
        return None


def _zip_sources(path: Path) -> list[Source]:
    name = safe_file_name(path.name)

    def refused(reason: str, code: str) -> list[Source]:
        return [Source(name=name, path=path, error=f"{name}: {reason}", error_code=code)]

    declared = _declared_members(path)
    if declared is not None and declared > MAX_ZIP_MEMBERS:
        return refused(
            f"{declared:,} entries in the zip, over the limit of {MAX_ZIP_MEMBERS:,}; nothing in it was reviewed",
            "too_many_files",
        )
    try:
        handle = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return refused("not a readable zip file (its directory is damaged)", "bad_zip")
    members = handle.infolist()
    if any(m.filename == DOCX_MAIN_PART for m in members):  # a Word file under another name: one proposal
        handle.close()
        return [Source(name=name, path=path)]
    if len(members) > MAX_ZIP_MEMBERS:
        handle.close()
        return refused(
            f"{len(members):,} entries in the zip, over the limit of {MAX_ZIP_MEMBERS:,}; nothing in it was reviewed",
            "too_many_files",
        )
    pdfs = [m for m in members if not m.is_dir() and _is_proposal_name(m.filename) and "__MACOSX" not in m.filename]
    if not pdfs:
        handle.close()
        return refused("no PDF files or Word (.docx) files in the zip", "no_inputs")
    archive = ZipArchive(path, handle)
    return [
        Source(name=safe_file_name(m.filename), path=path, member=m.filename, archive=archive, info=m)
        for m in sorted(pdfs, key=lambda m: m.filename)  # stable: two members of one name keep zip order
    ]


def collect_sources(paths: list[Path]) -> list[Source]:
    """Proposals from folders (recursively), zip files (their .pdf/.docx members) and PDF/Word files, each under a name
    of its own; unusable inputs are kept with their reason."""
    sources: dict[str, Source] = {}

    def add(source: Source) -> None:
        name, n = source.name, 2
        while name in sources:  # two files of the same name in different folders, or twice in one zip
            name = f"{Path(source.name).stem} ({n}){Path(source.name).suffix}"
            n += 1
        sources[name] = source.model_copy(update={"name": name})

    for path in paths:
        if path.is_dir():
            found = _folder_sources(path)
        elif path.is_file() and not _is_proposal_name(path.name) and zipfile.is_zipfile(path):
            found = _zip_sources(path)
        elif path.is_file():
            found = [Source(name=safe_file_name(path.name), path=path)]
        else:
            raise BadInputError(f"{path}: no such file or folder", code="unreadable_file")
        for source in found:
            add(source)
    if not sources:
        raise BadInputError("no PDF files or Word (.docx) files found in the given paths", code="no_inputs")
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
