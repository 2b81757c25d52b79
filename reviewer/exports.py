"""Writing a bulk run's outputs to a folder: the comparison in every format, each vendor's own report,
and the anonymisation key. Rendering is the renderers' job; this module only names and writes files.

The folder keeps a manifest of what the run wrote (MANIFEST). A later run into the same folder removes
what the previous run wrote and this one did not (reports of vendors no longer in the run, a key from
an anonymised run), and nothing else: files it did not write are never touched.

The manifest also records the run's `inputs` digest (`inputs_digest`: everything the outputs are
computed from, the store's reviews included) and each written file's sha256. A rerun with the same
digest whose files all still hold what was written renders nothing (`unchanged_outputs`); any difference
renders and writes again. A run that failed nothing, and whose store nobody wrote to while its outputs
were read, records a `replay` too (reviewer/rerun.py): a later run given the same, against a store still
as it was, prints what a rerun would print and stops before opening the store."""

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from reviewer import __version__
from reviewer.output import write_bytes_atomically
from reviewer.rerun import Replay

if TYPE_CHECKING:  # annotations only: a rerun that replays never imports the comparison's models
    from reviewer.comparison import Comparison, Entry

MANIFEST = ".reviewer-outputs.json"
MAX_SLUG = 60  # characters, well inside a file name's 255 bytes


def _slug(text: str) -> str:
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text).strip("-")[:MAX_SLUG].strip("-")
    return slug or "vendor"


def report_stems(entries: list["Entry"]) -> dict[int, str]:
    """Entry index -> report file stem, unique in the folder even on a case-insensitive file system:
    vendors whose names slug alike ("Acme AI", "Acme-AI", "acme ai") get a short hash of their file."""
    slugs = {i: _slug(e.vendor) for i, e in enumerate(entries) if e.review is not None}
    counts: dict[str, int] = {}
    for slug in slugs.values():
        counts[slug.casefold()] = counts.get(slug.casefold(), 0) + 1
    stems = {}
    for i, slug in slugs.items():
        if counts[slug.casefold()] > 1:
            key = entries[i].review_id or entries[i].file_name
            slug = f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
        stems[i] = slug
    return stems


def _previous_outputs(out_dir: Path) -> list[Path]:
    """The files the last run listed in its manifest, only those inside the folder."""
    try:
        listed = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    root = out_dir.resolve()
    previous = []
    for name in listed if isinstance(listed, list) else []:
        if not isinstance(name, str) or Path(name).is_absolute() or ".." in Path(name).parts:
            continue
        path = out_dir / name
        if path.parent.resolve().is_relative_to(root):
            previous.append(path)
    return previous


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def inputs_digest(
    comparison: "Comparison", entries: list["Entry"], key: dict[str, str] | None, given: Mapping[str, object]
) -> str:
    """One sha256 over a canonical JSON of everything a run's outputs are computed from: what the run was
    given (`given`: the proposals' hashes, the rubric's content, backend, model and options), what it read
    back from the store (each review with the panel's grades, rounds and events, as the comparison and the
    entries hold them), the anonymisation key, and this reviewer's version. The comparison's time stamp
    is left out: it says when the outputs were made, not from what."""
    document = {
        "reviewer": __version__,
        "given": given,
        "comparison": comparison.model_dump(mode="json", exclude={"generated_at"}),
        "entries": [entry.model_dump(mode="json") for entry in entries],
        "key": key,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _sha256(canonical.encode("utf-8"))


def _manifest(out_dir: Path) -> dict:
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _intact_outputs(out_dir: Path, manifest: dict) -> list[Path] | None:
    """The files the manifest lists, when every one is still there holding the bytes it recorded; else None."""
    files, hashes = manifest.get("files"), manifest.get("sha256")
    listed = {p.relative_to(out_dir).as_posix(): p for p in _previous_outputs(out_dir)}
    if not isinstance(files, list) or not isinstance(hashes, dict) or not listed:
        return None
    if set(hashes) != set(listed) or len(listed) != len(files):  # a name dropped as unsafe, or listed twice
        return None
    for name, path in listed.items():
        try:
            if path.is_symlink() or not path.is_file() or _sha256(path.read_bytes()) != hashes[name]:
                return None
        except OSError:
            return None
    return list(listed.values())


def unchanged_outputs(out_dir: Path, digest: str) -> list[Path] | None:
    """The files the last run into `out_dir` wrote, when its inputs digest was `digest` and every one of them
    is still there holding the bytes it wrote; None when anything differs (or there was no such run)."""
    manifest = _manifest(out_dir)
    return _intact_outputs(out_dir, manifest) if manifest.get("inputs") == digest else None


def replay_of(out_dir: Path, run_digest: str) -> tuple[Replay, list[Path]] | None:
    """What the last run into `out_dir` printed and the files it wrote, when it recorded a replay for
    `run_digest` (reviewer/rerun.py) and its files still hold what it wrote; else None."""
    manifest = _manifest(out_dir)
    recorded = manifest.get("replay")
    if not isinstance(recorded, dict) or recorded.get("digest") != run_digest:
        return None
    try:
        replay = Replay.model_validate(recorded)
    except ValidationError:
        return None
    files = _intact_outputs(out_dir, manifest)
    return None if files is None else (replay, files)


def record_replay(out_dir: Path, replay: Replay | None) -> None:
    """Set (or clear) the replay in the folder's manifest, leaving the rest of it as it is."""
    manifest = _manifest(out_dir)
    if not manifest or manifest.get("replay") == (replay.model_dump() if replay else None):
        return
    manifest["replay"] = replay.model_dump() if replay else None
    _write_manifest(out_dir, manifest)


def _write_manifest(out_dir: Path, manifest: dict) -> None:
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    write_bytes_atomically(out_dir / MANIFEST, text.encode("utf-8"))


def write_outputs(
    out_dir: Path,
    comparison: "Comparison",
    entries: list["Entry"],
    key: dict[str, str] | None,
    *,
    digest: str | None = None,
    replay: Replay | None = None,
) -> list[Path]:
    """comparison.{csv,xlsx,html,md}, reports/<vendor>.{md,json}, the anonymisation key if any, and the
    manifest (with `digest`, the run's inputs digest, each file's sha256, and the run's replay if it has
    one); then what the previous run wrote here and this one did not is removed."""
    from reviewer.render import comparison as render  # imported here: a rerun that renders nothing skips them
    from reviewer.render import compliance
    from reviewer.render.markdown import render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    previous = _previous_outputs(out_dir)
    hashes: dict[str, str] = {}
    written: list[Path] = []

    def write(path: Path, data: bytes | str, *, private: bool = False) -> None:
        data = data.encode("utf-8") if isinstance(data, str) else data
        write_bytes_atomically(path, data, private=private)
        hashes[path.relative_to(out_dir).as_posix()] = _sha256(data)
        written.append(path)

    write(out_dir / "comparison.csv", render.to_csv(comparison))
    write(out_dir / "comparison.md", render.to_markdown(comparison))
    write(out_dir / "comparison.html", render.to_html(comparison))
    write(out_dir / "comparison.xlsx", render.to_xlsx(comparison))
    if compliance.is_rfp_rubric(comparison):  # a rubric taken from an RFP: the compliance matrix beside it
        write(out_dir / "compliance.csv", compliance.to_csv(comparison))
        write(out_dir / "compliance.xlsx", compliance.to_xlsx(comparison))
    reports = out_dir / "reports"
    vendors = []
    stems = report_stems(entries)
    for i, entry in enumerate(entries):
        stem = stems.get(i)
        if stem is not None:
            write(reports / f"{stem}.md", render_markdown(entry.review, entry.rounds))
            write(reports / f"{stem}.json", entry.review.model_dump_json(indent=2))
        vendors.append(
            {
                "vendor": entry.vendor,
                "file_names": entry.file_names or [entry.file_name],
                "report": f"reports/{stem}.md" if stem else None,
                "error": entry.error,
            }
        )
    if key is not None:  # private: it undoes the anonymisation
        write(out_dir / "anonymisation-key.json", json.dumps(key, indent=2) + "\n", private=True)
    manifest = {
        "files": [p.relative_to(out_dir).as_posix() for p in written],
        "vendors": vendors,
        "inputs": digest,
        "sha256": hashes,
        "replay": replay.model_dump() if replay else None,
    }
    _write_manifest(out_dir, manifest)
    current = {p.relative_to(out_dir) for p in written}
    for path in previous:
        if path.relative_to(out_dir) not in current and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
    return written
