"""reviewer purge: the retention period applied once to the local job store; --dry-run, --days, exit codes."""

import json

from reviewer.cli import main
from reviewer.config import Settings
from reviewer.store import FileStore, JobStore, make_engine
from tests.store.test_retention import OLD, RECENT, _age, _finished


def _store_with_reviews(tmp_path, monkeypatch) -> tuple[JobStore, FileStore, str, str]:
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    settings = Settings.load()
    store = JobStore(make_engine(settings.storage.resolved_database_url))
    files = FileStore(settings.storage.data_dir / "uploads")
    old, recent = _finished(store, 21), _finished(store, 22)
    for job in (old, recent):
        files.put(job.sha256, b"x" * 2048)
    _age(store, old.id, OLD)
    _age(store, recent.id, RECENT)
    return store, files, old.id, recent.id


def test_without_a_retention_period_purge_says_so_and_deletes_nothing(tmp_path, monkeypatch, capsys):
    store, _, old, _ = _store_with_reviews(tmp_path, monkeypatch)
    assert main(["purge"]) == 0
    captured = capsys.readouterr()
    assert "no retention period" in captured.err and captured.out == ""
    monkeypatch.setenv("REVIEWER_RETENTION_DAYS", "0")
    assert main(["purge"]) == 0
    assert "no retention period" in capsys.readouterr().err
    assert store.get(old) is not None


def test_a_dry_run_lists_and_a_purge_deletes_and_counts(tmp_path, monkeypatch, capsys):
    store, files, old, recent = _store_with_reviews(tmp_path, monkeypatch)
    monkeypatch.setenv("REVIEWER_RETENTION_DAYS", "30")

    assert main(["purge", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"would delete review {old} (p21.pdf, done, last activity ")
    assert out[1] == f"would delete file {21:064x} (2.0 KB)"
    assert out[2].startswith("would delete 1 review, 0 clarification rounds, 1 stored file (2.0 KB), 0 batches: ")
    assert out[2].endswith("(30 days)") and len(out) == 3
    assert store.get(old) is not None and files.path(f"{21:064x}").exists()

    assert main(["purge"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("deleted 1 review, 0 clarification rounds, 1 stored file (2.0 KB), 0 batches: ")
    assert "tombstone" in out[1]
    assert store.get(old) is None and store.get(recent) is not None
    assert not files.path(f"{21:064x}").exists() and files.path(f"{22:064x}").exists()

    assert main(["purge"]) == 0
    assert capsys.readouterr().out.startswith("deleted 0 reviews, 0 clarification rounds, 0 stored files (0 B)")


def test_days_overrides_the_setting_and_json_gives_the_report(tmp_path, monkeypatch, capsys):
    store, _, old, recent = _store_with_reviews(tmp_path, monkeypatch)
    monkeypatch.setenv("REVIEWER_RETENTION_DAYS", "60")  # would keep both
    assert main(["purge", "--days", "1", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(r["id"] for r in report["reviews"]) == sorted([old, recent])
    assert (report["days"], report["dry_run"], report["freed_bytes"]) == (1, False, 4096)
    assert store.get(old) is None and store.get(recent) is None


def test_bad_days_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    assert main(["purge", "--days", "-3"]) == 2
    err = capsys.readouterr().err
    assert err == "reviewer: error: --days must be from 0 to 36,500 (100 years), got -3\n"
    assert main(["purge", "--days", "99999999999"]) == 2  # past any date: refused, not a traceback
    assert capsys.readouterr().err == "reviewer: error: --days must be from 0 to 36,500 (100 years), got 99999999999\n"
    monkeypatch.setenv("REVIEWER_RETENTION_DAYS", "soon")
    assert main(["purge"]) == 2
    err = capsys.readouterr().err
    assert "invalid setting" in err and "retention_days" in err and err.count("\n") == 1
