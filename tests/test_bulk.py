import asyncio
import csv
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from reviewer.cli import main
from reviewer.config import AnthropicSettings, JobSettings, Settings, StorageSettings
from reviewer.errors import BadInputError
from reviewer.grading.base import RawGrading, create_backend
from reviewer.queue.bulk import run_bulk
from reviewer.rubric import RubricCatalog
from reviewer.sources import collect_sources, load_vendor_mapping
from reviewer.store import JobStatus, JobStore, make_engine

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def proposals(tmp_path) -> Path:
    folder = tmp_path / "rfp"
    folder.mkdir()
    for name in ("coral_data.pdf", "helix_systems.pdf", "quanta_labs.pdf"):
        shutil.copy(SAMPLES / name, folder / name)
    return folder


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sources_come_from_folders_zips_and_files(tmp_path, proposals):
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(SAMPLES / "coral_data.pdf", "sub/coral_data.pdf")
        z.writestr("__MACOSX/._x.pdf", b"junk")
        z.writestr("notes.txt", b"not a proposal")
    names = [s.name for s in collect_sources([proposals, archive, SAMPLES / "brightpath_ai.pdf"])]
    assert names == [
        "coral_data.pdf",
        "helix_systems.pdf",
        "quanta_labs.pdf",
        "coral_data (2).pdf",
        "brightpath_ai.pdf",
    ]
    zipped = collect_sources([archive])[0]
    assert zipped.read(10_000_000) == (SAMPLES / "coral_data.pdf").read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInputError, match="no PDF files"):
        collect_sources([empty])
    with pytest.raises(BadInputError, match="no such file"):
        collect_sources([tmp_path / "missing"])


def test_vendor_mapping_reads_csv_yaml_and_json(tmp_path):
    (tmp_path / "v.csv").write_text("file,vendor\na.pdf,Acme AI\n")
    (tmp_path / "v.yaml").write_text("a.pdf: Acme AI\n")
    (tmp_path / "v.json").write_text(json.dumps({"a.pdf": "Acme AI"}))
    for name in ("v.csv", "v.yaml", "v.json"):
        assert load_vendor_mapping(tmp_path / name) == {"a.pdf": "Acme AI"}
    (tmp_path / "bad.yaml").write_text("- just\n- a list\n")
    with pytest.raises(BadInputError, match="must map file names"):
        load_vendor_mapping(tmp_path / "bad.yaml")


def damaged_zip(path: Path) -> Path:
    """A zip of three proposals: one with its compressed bytes overwritten, one marked encrypted, one intact."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(SAMPLES / "coral_data.pdf", "damaged.pdf")
        z.writestr("locked.pdf", b"%PDF-1.4 ciphertext")
        z.write(SAMPLES / "quanta_labs.pdf", "intact.pdf")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        damaged, locked = z.getinfo("damaged.pdf"), z.getinfo("locked.pdf")
    start = damaged.header_offset + 30 + len(damaged.filename) + len(damaged.extra) + 200
    data[start : start + 50] = bytes(b ^ 0xFF for b in data[start : start + 50])
    data[locked.header_offset + 6] |= 0x1  # "encrypted", in the local header and in the central directory
    central = data.rindex(b"locked.pdf") - 46  # its central directory entry: 46 bytes, then the name
    assert data[central : central + 4] == b"PK\x01\x02"
    data[central + 8] |= 0x1
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_or_encrypted_zip_member_fails_alone_and_the_others_are_reviewed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    archive = damaged_zip(tmp_path / "responses.zip")
    sources = {s.name: s for s in collect_sources([archive])}
    with pytest.raises(BadInputError, match=r"damaged inside responses\.zip"):
        sources["damaged.pdf"].read(10_000_000)
    with pytest.raises(BadInputError, match=r"encrypted inside responses\.zip"):
        sources["locked.pdf"].read(10_000_000)

    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "bulk", str(archive), "--backend", "offline", "--out", str(out), "--no-progress")
    assert code == 1 and "1 reviewed, 0 already reviewed, 2 failed" in err and "internal error" not in err
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO((out / "comparison.csv").read_text()))}
    assert "damaged inside" in rows["damaged.pdf"]["status"] and "encrypted" in rows["locked.pdf"]["status"]


def test_bulk_writes_every_output_and_a_second_run_skips_what_was_done(tmp_path, proposals, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    (proposals / "broken.pdf").write_bytes(b"this is not a pdf")
    (tmp_path / "vendors.csv").write_text("coral_data.pdf,Coral Data Services\n")
    out = tmp_path / "out"
    code, _, err = run_cli(
        capsys,
        "bulk",
        str(proposals),
        "--backend",
        "offline",
        "--out",
        str(out),
        "--vendors",
        str(tmp_path / "vendors.csv"),
        "--no-progress",
    )
    assert code == 1  # one file failed; the others were still reviewed
    assert "3 reviewed, 0 already reviewed, 1 failed" in err
    for name in ("comparison.csv", "comparison.xlsx", "comparison.html", "comparison.md"):
        assert (out / name).stat().st_size > 0
    rows = list(csv.DictReader(io.StringIO((out / "comparison.csv").read_text())))
    assert {r["vendor"] for r in rows} == {"Coral Data Services", "Helix Systems", "Quanta Labs", "Broken"}
    broken = next(r for r in rows if r["vendor"] == "Broken")
    assert broken["rank"] == "—" and "not a PDF" in broken["status"]
    assert (out / "reports" / "Coral-Data-Services.md").read_text().startswith("# Proposal review: Coral Data Services")

    (proposals / "broken.pdf").unlink()
    code, _, err = run_cli(capsys, "bulk", str(proposals), "--backend", "offline", "--out", str(out), "--no-progress")
    assert code == 0 and "0 reviewed, 3 already reviewed, 0 failed" in err
    code, _, err = run_cli(
        capsys, "bulk", str(proposals), "--backend", "offline", "--out", str(out), "--force", "--no-progress"
    )
    assert "3 reviewed, 0 already reviewed" in err


def test_anonymised_bulk_outputs_name_no_vendor_and_keep_the_key_apart(tmp_path, proposals, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "blind"
    code, stdout, _ = run_cli(
        capsys, "bulk", str(proposals), "--backend", "offline", "--out", str(out), "--anonymize", "--no-progress"
    )
    assert code == 0
    key = json.loads((out / "anonymisation-key.json").read_text())
    assert set(key) == {"Vendor A", "Vendor B", "Vendor C"}
    for path in [*out.glob("comparison.*"), *(out / "reports").iterdir()]:
        if path.suffix in (".csv", ".md", ".html", ".json"):
            text = path.read_text()
            assert "Helix" not in text and "Quanta" not in text and "Coral" not in text, path.name
    assert "Helix" not in stdout


class GateBackend:
    """Grades documents whose name is in `allowed` at once; blocks on the others until cancelled."""

    name = "gate"
    offline = True

    def __init__(self, allowed: set[str]) -> None:
        self.allowed = allowed

    async def grade(self, document, rubric) -> RawGrading:
        if document.file_name not in self.allowed:
            await asyncio.Event().wait()
        return await create_backend("offline", Settings()).grade(document, rubric)


def test_an_interrupted_run_keeps_what_finished_and_the_next_run_completes(tmp_path, proposals):
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"), jobs=JobSettings(workers=3, poll_seconds=0.05)
    )
    sources = collect_sources([proposals])
    gate = GateBackend({"coral_data.pdf"})

    async def interrupted():
        task = asyncio.create_task(
            run_bulk(sources, "default", "offline", settings, RubricCatalog(), backend_factory=lambda name, s: gate)
        )
        store = JobStore(make_engine(settings.storage.resolved_database_url))
        for _ in range(200):
            await asyncio.sleep(0.05)
            jobs, _ = store.list_jobs(JobStatus.DONE, 10, 0)
            if jobs:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    store = JobStore(make_engine(settings.storage.resolved_database_url))
    assert [j.file_name for j in store.list_jobs(JobStatus.DONE, 10, 0)[0]] == ["coral_data.pdf"]
    assert store.list_jobs(JobStatus.RUNNING, 10, 0)[1] == 0  # released, not stuck

    result = asyncio.run(run_bulk(sources, "default", "offline", settings, RubricCatalog()))
    assert (result.skipped, result.reviewed, result.failed) == (1, 2, 0)
    assert all(e.review is not None for e in result.entries)


def test_batch_api_run_reviews_everything_through_one_batch_and_resumes_it_after_an_interruption(tmp_path, proposals):
    from tests.test_anthropic_batch import FakeBatchAPI

    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        anthropic=AnthropicSettings(api_key="sk-ant-test-0123456789"),
        jobs=JobSettings(batch_poll_seconds=0.05, poll_seconds=0.05),
    )
    api = FakeBatchAPI(lambda cid: "errored" if cid == "d1-g0" else "succeeded")
    creates = []
    original = api.handle

    def counting(request):
        if request.method == "POST" and request.url.path == "/v1/messages/batches":
            creates.append(request)
        return original(request)

    api.handle = counting
    backend = api.backend(settings)
    sources = collect_sources([proposals])

    def bulk_in_batch():
        return run_bulk(
            sources,
            "default",
            "anthropic",
            settings,
            RubricCatalog(),
            backend_factory=lambda name, s: backend,
            batch_api=True,
        )

    async def interrupted():
        api.polls = -10_000  # the batch stays in progress until we stop waiting
        task = asyncio.create_task(bulk_in_batch())
        for _ in range(200):
            await asyncio.sleep(0.02)
            if creates:
                break
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    assert len(creates) == 1 and list((tmp_path / "data" / "batches").glob("*.json"))

    api.polls = 0
    result = asyncio.run(bulk_in_batch())
    assert len(creates) == 1  # the same batch was picked up again, not paid for twice
    assert (result.reviewed, result.failed) == (3, 0)
    assert api.direct_calls == 1  # the errored request went through the normal path
    assert all(e.review and e.review.error_count == 0 for e in result.entries)
    assert not list((tmp_path / "data" / "batches").glob("*.json"))


def csv_rows(out: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO((out / "comparison.csv").read_text())))


def test_the_same_pdf_in_a_folder_and_a_zip_is_one_vendor_under_every_name(tmp_path, proposals, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    archive = tmp_path / "late.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(SAMPLES / "coral_data.pdf", "resent/coral_copy.pdf")
    (tmp_path / "vendors.csv").write_text("coral_copy.pdf,Coral Data Services\n")  # names the copy only
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        capsys,
        *("bulk", str(proposals), str(archive), "--backend", "offline", "--out", str(out)),
        *("--vendors", str(tmp_path / "vendors.csv"), "--no-progress"),
    )
    assert code == 0 and "3 reviewed, 0 already reviewed, 0 failed" in err
    rows = csv_rows(out)
    assert len(rows) == 3
    coral = next(r for r in rows if r["vendor"] == "Coral Data Services")
    assert coral["file"] == "coral_data.pdf, coral_copy.pdf"
    assert "Coral Data Services" in stdout and "[coral_data.pdf, coral_copy.pdf]" in stdout
    assert (out / "reports" / "Coral-Data-Services.md").read_text().startswith("# Proposal review: Coral Data Services")
    manifest = json.loads((out / ".reviewer-outputs.json").read_text())
    assert {"vendor": "Coral Data Services", "file_names": ["coral_data.pdf", "coral_copy.pdf"]}.items() <= next(
        v for v in manifest["vendors"] if v["vendor"] == "Coral Data Services"
    ).items()


def test_files_whose_names_read_alike_stay_two_vendors_with_two_reports(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "rfp"
    folder.mkdir()
    shutil.copy(SAMPLES / "coral_data.pdf", folder / "acme_ai.pdf")
    shutil.copy(SAMPLES / "helix_systems.pdf", folder / "acme-ai.pdf")
    shutil.copy(SAMPLES / "quanta_labs.pdf", folder / "q.pdf")
    shutil.copy(SAMPLES / "brightpath_ai.pdf", folder / "b.pdf")
    (tmp_path / "vendors.csv").write_text("q.pdf,Quanta AI\nb.pdf,Quanta-AI\n")  # one slug, two vendors
    out = tmp_path / "out"
    code, _, _ = run_cli(
        capsys,
        *("bulk", str(folder), "--backend", "offline", "--out", str(out)),
        *("--vendors", str(tmp_path / "vendors.csv"), "--no-progress"),
    )
    assert code == 0
    vendors = [r["vendor"] for r in csv_rows(out)]
    assert len(set(vendors)) == 4, vendors
    reports = sorted((out / "reports").glob("*.md"))
    assert len(reports) == 4
    titles = {p.read_text().splitlines()[0] for p in reports}
    assert len(titles) == 4 and "# Proposal review: Quanta AI" in titles and "# Proposal review: Quanta-AI" in titles
    html = (out / "comparison.html").read_text()
    headings = re.findall(r"<h3 id='([^']+)'>([^<]+)</h3>", html)  # each vendor's evidence under its own heading
    assert len({anchor for anchor, _ in headings}) == 4 and {name for _, name in headings} == set(vendors)


def test_a_rerun_into_the_same_folder_removes_only_what_the_last_run_wrote(tmp_path, proposals, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "out"
    args = ("--backend", "offline", "--out", str(out), "--no-progress")
    assert run_cli(capsys, "bulk", str(proposals), *args, "--anonymize")[0] == 0
    assert (out / "anonymisation-key.json").exists()
    assert run_cli(capsys, "bulk", str(proposals), *args)[0] == 0
    assert not (out / "anonymisation-key.json").exists()
    (out / "notes.txt").write_text("mine")
    (out / "reports" / "my-summary.md").write_text("mine")
    (proposals / "quanta_labs.pdf").unlink()
    assert run_cli(capsys, "bulk", str(proposals), *args)[0] == 0
    assert sorted(p.name for p in (out / "reports").iterdir()) == [
        "Coral-Data.json",
        "Coral-Data.md",
        "Helix-Systems.json",
        "Helix-Systems.md",
        "my-summary.md",
    ]
    assert (out / "notes.txt").read_text() == "mine"
    assert {r["vendor"] for r in csv_rows(out)} == {"Coral Data", "Helix Systems"}


def test_a_zip_over_the_member_limit_fails_alone_and_its_row_says_why(tmp_path, proposals, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    archive = tmp_path / "dump.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(1001):
            z.writestr(f"p{i}.pdf", b"%PDF-1.4")
    outside = tmp_path / "elsewhere.pdf"
    shutil.copy(SAMPLES / "brightpath_ai.pdf", outside)
    (proposals / "link.pdf").symlink_to(outside)
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        capsys, "bulk", str(proposals), str(archive), "--backend", "offline", "--out", str(out), "--no-progress"
    )
    assert code == 1 and "3 reviewed, 0 already reviewed, 2 failed" in err and "internal error" not in err
    rows = {r["file"]: r for r in csv_rows(out)}
    assert "over the limit of 1,000" in rows["dump.zip"]["status"]
    assert "outside rfp; not followed" in rows["link.pdf"]["status"]
    assert "failed: dump.zip: 1,001 entries" in err
    failed_lines = [line for line in stdout.splitlines() if "failed:" in line]
    assert len(failed_lines) == 2 and not any("red flags" in line for line in failed_lines)


def bulk_run(capsys, proposals: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "bulk", str(proposals), "--backend", "offline", "--out", str(out), "--no-progress", *extra)


def forbid(monkeypatch, target: str, what: str) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError(f"{what} on a rerun that has nothing to do")

    monkeypatch.setattr(target, refuse)


def test_a_rerun_with_the_same_inputs_opens_no_store_and_renders_nothing(tmp_path, proposals, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "out"
    code, first_out, _ = bulk_run(capsys, proposals, out)
    assert code == 0
    written = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".reviewer-outputs.json"}

    with monkeypatch.context() as patch:
        forbid(patch, "reviewer.queue.bulk.make_engine", "opened the store")
        forbid(patch, "reviewer.render.comparison.to_xlsx", "rendered")
        code, second_out, err = bulk_run(capsys, proposals, out)
    assert code == 0 and f"outputs unchanged since the last run: {len(written)} files" in err
    assert "0 reviewed, 3 already reviewed, 0 failed; $0.0000" in err and second_out == first_out

    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(SAMPLES / "brightpath_ai.pdf", other)
    assert bulk_run(capsys, other, tmp_path / "other-out")[0] == 0  # the store changes: the next run reads it

    with monkeypatch.context() as patch:
        forbid(patch, "reviewer.render.comparison.to_xlsx", "rendered")
        code, third_out, err = bulk_run(capsys, proposals, out)
    assert code == 0 and f"outputs unchanged since the last run: {len(written)} files" in err
    assert "0 reviewed, 3 already reviewed, 0 failed; $0.0000" in err and third_out == first_out
    assert {p: p.read_bytes() for p in written} == written


def test_an_edited_or_deleted_output_or_a_forced_run_renders_again(tmp_path, proposals, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "out"
    assert bulk_run(capsys, proposals, out)[0] == 0
    original = (out / "comparison.md").read_text()
    (out / "comparison.md").write_text(original + "\nmy note\n")
    code, _, err = bulk_run(capsys, proposals, out)
    rendered = (out / "comparison.md").read_text()  # again: the edit is gone (its minute may differ)
    assert code == 0 and "outputs unchanged" not in err and "my note" not in rendered
    assert rendered.splitlines()[:3] == original.splitlines()[:3]
    (out / "reports" / "Helix-Systems.json").unlink()
    code, _, err = bulk_run(capsys, proposals, out)
    assert "outputs unchanged" not in err and (out / "reports" / "Helix-Systems.json").is_file()
    code, _, err = bulk_run(capsys, proposals, out, "--force")
    assert "3 reviewed, 0 already reviewed" in err and "outputs unchanged" not in err


def test_a_changed_rubric_vendor_mapping_or_option_renders_again(tmp_path, proposals, capsys, monkeypatch):
    from reviewer.rubric import BUNDLED_RUBRICS_DIR

    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "out"
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text((BUNDLED_RUBRICS_DIR / "default.yaml").read_text())
    assert bulk_run(capsys, proposals, out, "--rubric", str(rubric))[0] == 0

    text = rubric.read_text()
    title = re.search(r"title: (.+)", text.split("criteria:", 1)[1]).group(1).strip().strip("\"'")
    rubric.write_text(text.replace(title, "Renamed criterion", 1))  # same id and version: no new reviews
    code, _, err = bulk_run(capsys, proposals, out, "--rubric", str(rubric))
    assert code == 0 and "0 reviewed, 3 already reviewed" in err and "outputs unchanged" not in err
    assert "Renamed criterion" in csv_rows(out)[0] and title not in csv_rows(out)[0]

    (tmp_path / "vendors.csv").write_text("helix_systems.pdf,Helix Holdings\n")
    code, _, err = bulk_run(capsys, proposals, out, "--rubric", str(rubric), "--vendors", str(tmp_path / "vendors.csv"))
    assert code == 0 and "outputs unchanged" not in err
    assert "Helix Holdings" in {r["vendor"] for r in csv_rows(out)}
    code, _, err = bulk_run(capsys, proposals, out, "--rubric", str(rubric), "--vendors", str(tmp_path / "vendors.csv"))
    assert "outputs unchanged" in err  # the mapping as last time
    (tmp_path / "vendors.csv").write_text("helix_systems.pdf,Helix Group\n")
    code, _, err = bulk_run(capsys, proposals, out, "--rubric", str(rubric), "--vendors", str(tmp_path / "vendors.csv"))
    assert "outputs unchanged" not in err and "Helix Group" in {r["vendor"] for r in csv_rows(out)}

    code, stdout, err = bulk_run(capsys, proposals, out, "--rubric", str(rubric), "--anonymize")
    assert "outputs unchanged" not in err and "Helix" not in stdout and (out / "anonymisation-key.json").is_file()


def test_a_grade_the_panel_changed_since_the_last_run_is_in_the_next_outputs(tmp_path, proposals, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "out"
    assert bulk_run(capsys, proposals, out)[0] == 0
    store = JobStore(make_engine(Settings.load().storage.resolved_database_url))
    review_id = next(j.id for j in store.list_jobs(None, 10, 0)[0] if j.file_name == "coral_data.pdf")
    store.engine.dispose()
    finding = json.loads((out / "reports" / "Coral-Data.json").read_text())["findings"][0]
    grade = "red_flag" if finding["grade"] != "red_flag" else "met"
    assert main(["assess", review_id, finding["criterion_id"], grade, "--reason", "clause 4", "--as", "ana"]) == 0
    capsys.readouterr()

    code, _, err = bulk_run(capsys, proposals, out)
    assert code == 0 and "outputs unchanged" not in err
    coral = next(r for r in csv_rows(out) if r["vendor"] == "Coral Data")
    assert coral[finding["title"]].startswith(("RED FLAG" if grade == "red_flag" else grade) + " (evaluator")


def test_a_run_with_a_failure_is_never_replayed(tmp_path, proposals, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    (proposals / "broken.pdf").write_bytes(b"this is not a pdf")
    out = tmp_path / "out"
    for _ in range(3):
        code, _, err = bulk_run(capsys, proposals, out)
        assert code == 1 and "0 failed" not in err and "failed: broken.pdf" in err
    manifest = json.loads((out / ".reviewer-outputs.json").read_text())
    assert manifest["replay"] is None and manifest["inputs"]


def test_a_changed_setting_or_a_new_proposal_reads_the_store_again(tmp_path, proposals, capsys, monkeypatch):
    import reviewer.queue.bulk

    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "out"
    assert bulk_run(capsys, proposals, out)[0] == 0
    opened = []
    real = reviewer.queue.bulk.make_engine
    monkeypatch.setattr(reviewer.queue.bulk, "make_engine", lambda url: opened.append(url) or real(url))

    assert bulk_run(capsys, proposals, out)[0] == 0 and opened == []  # replayed
    monkeypatch.setenv("REVIEWER_INGEST_MAX_PAGES", "2")  # a limit a new proposal would be read under
    code, _, err = bulk_run(capsys, proposals, out)
    assert code == 0 and opened and "0 reviewed, 3 already reviewed" in err
    monkeypatch.delenv("REVIEWER_INGEST_MAX_PAGES")
    opened.clear()
    shutil.copy(SAMPLES / "brightpath_ai.pdf", proposals / "brightpath_ai.pdf")
    code, _, err = bulk_run(capsys, proposals, out)
    assert code == 0 and opened and "1 reviewed, 3 already reviewed" in err
