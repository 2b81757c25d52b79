import warnings
import zipfile
from pathlib import Path

import pytest

from reviewer import sources as sources_module
from reviewer.errors import BadInputError
from reviewer.sources import MAX_ZIP_MEMBERS, close_sources, collect_sources

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
CORAL = (SAMPLES / "coral_data.pdf").read_bytes()
HELIX = (SAMPLES / "helix_systems.pdf").read_bytes()


def test_a_zip_is_opened_once_however_many_pdfs_it_holds(tmp_path, monkeypatch):
    archive = tmp_path / "responses.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(5):
            z.writestr(f"p{i}.pdf", CORAL + bytes([i]))
        for i in range(200):
            z.writestr(f"filler/{i}.txt", b"x")
    opened = []

    class CountingZipFile(zipfile.ZipFile):
        def __init__(self, *args, **kwargs):
            opened.append(args[0])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(sources_module.zipfile, "ZipFile", CountingZipFile)
    found = collect_sources([archive])
    assert [s.read(10_000_000)[-1] for s in found] == [0, 1, 2, 3, 4]
    assert len(opened) == 1
    close_sources(found)


def test_the_member_limit_counts_every_member_and_refuses_that_zip_alone(tmp_path):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("proposal.pdf", CORAL)
        for i in range(MAX_ZIP_MEMBERS):
            z.writestr(f"filler/{i}.txt", b"x")
    found = collect_sources([archive, SAMPLES / "helix_systems.pdf"])
    assert [s.name for s in found] == ["big.zip", "helix_systems.pdf"]
    with pytest.raises(BadInputError, match=r"1,001 entries in the zip, over the limit of 1,000") as caught:
        found[0].read(10_000_000)
    assert caught.value.code == "too_many_files"
    assert found[1].read(10_000_000) == HELIX


def test_a_zip_with_a_damaged_directory_fails_alone_with_its_reason(tmp_path):
    archive = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("proposal.pdf", CORAL)
    data = archive.read_bytes()
    archive.write_bytes(data.replace(b"PK\x01\x02", b"XX\x01\x02"))  # the end record still says "zip"
    assert zipfile.is_zipfile(archive)
    found = collect_sources([archive, SAMPLES / "helix_systems.pdf"])
    assert [s.name for s in found] == ["broken.zip", "helix_systems.pdf"]
    with pytest.raises(BadInputError, match=r"broken\.zip: not a readable zip file"):
        found[0].read(10_000_000)


def test_two_members_of_one_name_are_both_read_under_distinct_names(tmp_path):
    archive = tmp_path / "twice.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, which is the point
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("proposal.pdf", CORAL)
            z.writestr("proposal.pdf", HELIX)
    found = collect_sources([archive])
    assert [s.name for s in found] == ["proposal.pdf", "proposal (2).pdf"]
    assert [s.read(10_000_000) for s in found] == [CORAL, HELIX]


def test_links_to_files_outside_the_folder_are_not_followed(tmp_path):
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.pdf").write_bytes(HELIX)
    folder = tmp_path / "rfp"
    (folder / "sub").mkdir(parents=True)
    (folder / "coral.pdf").write_bytes(CORAL)
    (folder / "leak.pdf").symlink_to(outside / "secret.pdf")
    (folder / "sub" / "again.pdf").symlink_to(folder / "coral.pdf")  # inside the folder: followed
    (folder / "linked-dir").symlink_to(outside, target_is_directory=True)  # never entered
    found = {s.name: s for s in collect_sources([folder])}
    assert set(found) == {"coral.pdf", "leak.pdf", "again.pdf"}
    with pytest.raises(BadInputError, match=r"leak\.pdf: a link to a file outside rfp; not followed"):
        found["leak.pdf"].read(10_000_000)
    assert found["again.pdf"].read(10_000_000) == CORAL


def test_member_paths_never_leave_the_display_name(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../outside.pdf", CORAL)
        z.writestr("/etc/abs.pdf", HELIX)
        z.writestr("a\\..\\..\\win.pdf", CORAL + b"\n")
    names = sorted(s.name for s in collect_sources([archive]))
    assert names == ["abs.pdf", "outside.pdf", "win.pdf"]
