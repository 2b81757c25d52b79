"""Writing a bulk run's outputs to a folder: the comparison in every format, each vendor's own report,
and the anonymisation key. Rendering is the renderers' job; this module only names and writes files.

The folder keeps a manifest of what the run wrote (MANIFEST). A later run into the same folder removes
what the previous run wrote and this one did not (reports of vendors no longer in the run, a key from
an anonymised run), and nothing else: files it did not write are never touched."""

import hashlib
import json
from pathlib import Path

from reviewer.comparison import Comparison, Entry
from reviewer.output import write_atomically, write_bytes_atomically
from reviewer.render import comparison as render
from reviewer.render import compliance
from reviewer.render.markdown import render_markdown

MANIFEST = ".reviewer-outputs.json"
MAX_SLUG = 60  # characters, well inside a file name's 255 bytes


def _slug(text: str) -> str:
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text).strip("-")[:MAX_SLUG].strip("-")
    return slug or "vendor"


def report_stems(entries: list[Entry]) -> dict[int, str]:
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


def write_outputs(
    out_dir: Path, comparison: Comparison, entries: list[Entry], key: dict[str, str] | None
) -> list[Path]:
    """comparison.{csv,xlsx,html,md}, reports/<vendor>.{md,json}, the anonymisation key if any, and the
    manifest; then what the previous run wrote here and this one did not is removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = _previous_outputs(out_dir)
    written = []
    for name, text in (
        ("comparison.csv", render.to_csv(comparison)),
        ("comparison.md", render.to_markdown(comparison)),
        ("comparison.html", render.to_html(comparison)),
    ):
        write_atomically(out_dir / name, text)
        written.append(out_dir / name)
    xlsx = out_dir / "comparison.xlsx"
    write_bytes_atomically(xlsx, render.to_xlsx(comparison))
    written.append(xlsx)
    if compliance.is_rfp_rubric(comparison):  # a rubric taken from an RFP: the compliance matrix beside it
        write_atomically(out_dir / "compliance.csv", compliance.to_csv(comparison))
        write_bytes_atomically(out_dir / "compliance.xlsx", compliance.to_xlsx(comparison))
        written += [out_dir / "compliance.csv", out_dir / "compliance.xlsx"]
    reports = out_dir / "reports"
    vendors = []
    stems = report_stems(entries)
    for i, entry in enumerate(entries):
        stem = stems.get(i)
        if stem is not None:
            write_atomically(reports / f"{stem}.md", render_markdown(entry.review, entry.rounds))
            write_atomically(reports / f"{stem}.json", entry.review.model_dump_json(indent=2))
            written += [reports / f"{stem}.md", reports / f"{stem}.json"]
        vendors.append(
            {
                "vendor": entry.vendor,
                "file_names": entry.file_names or [entry.file_name],
                "report": f"reports/{stem}.md" if stem else None,
                "error": entry.error,
            }
        )
    if key is not None:
        path = out_dir / "anonymisation-key.json"
        write_atomically(path, json.dumps(key, indent=2) + "\n", private=True)  # it undoes the anonymisation
        written.append(path)
    manifest = {"files": [p.relative_to(out_dir).as_posix() for p in written], "vendors": vendors}
    write_atomically(out_dir / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    current = {p.relative_to(out_dir) for p in written}
    for path in previous:
        if path.relative_to(out_dir) not in current and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
    return written
