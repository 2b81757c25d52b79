"""Writing a bulk run's outputs to a folder: the comparison in every format, each vendor's own report,
and the anonymisation key. Rendering is the renderers' job; this module only names and writes files."""

import json
from pathlib import Path

from reviewer.comparison import Comparison, Entry
from reviewer.output import write_atomically, write_bytes_atomically
from reviewer.render import comparison as render
from reviewer.render.markdown import render_markdown


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text).strip("-") or "vendor"


def write_outputs(
    out_dir: Path, comparison: Comparison, entries: list[Entry], key: dict[str, str] | None
) -> list[Path]:
    """comparison.{csv,xlsx,html,md}, reports/<vendor>.{md,json}, and the anonymisation key if any."""
    out_dir.mkdir(parents=True, exist_ok=True)
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
    reports = out_dir / "reports"
    for entry in entries:
        if entry.review is None:
            continue
        stem = _slug(entry.vendor)
        write_atomically(reports / f"{stem}.md", render_markdown(entry.review))
        write_atomically(reports / f"{stem}.json", entry.review.model_dump_json(indent=2))
        written += [reports / f"{stem}.md", reports / f"{stem}.json"]
    if key is not None:
        path = out_dir / "anonymisation-key.json"
        write_atomically(path, json.dumps(key, indent=2) + "\n")
        written.append(path)
    return written
