"""Rubric files uploaded through the web app: checked with the CLI's errors, kept under one name per content,
listed as uploaded, and resolved under their own name even when they carry another file's rubric id."""

import pytest

from reviewer.config import Settings, StorageSettings
from reviewer.errors import RubricError
from reviewer.rubric import BUNDLED_RUBRICS_DIR, RubricCatalog, load_rubric_file

DEFAULT = (BUNDLED_RUBRICS_DIR / "default.yaml").read_text()


@pytest.fixture
def catalog(tmp_path) -> RubricCatalog:
    return RubricCatalog.from_settings(Settings(storage=StorageSettings(data_dir=tmp_path / "data")))


def test_an_upload_is_kept_once_per_content_and_listed_as_uploaded(catalog, tmp_path):
    edited = DEFAULT.replace("title: Buyer's checklist", "title: Supplier checklist", 1).encode()
    name = catalog.add_upload(edited, "C:\\Users\\ana\\edited.yaml")  # a browser's full path: its base name
    assert name.startswith("uploaded-ai_vendor_checklist-") and catalog.add_upload(edited, "again.yaml") == name
    assert [p.name for p in (tmp_path / "data" / "rubrics").iterdir()] == [f"{name}.yaml"]
    assert catalog.origin(name) == "uploaded" and catalog.origin("default") == "bundled"
    resolved, rubric = catalog.resolve(name)
    assert resolved == name and "Supplier" in rubric.model_dump_json()  # not the bundled file of the same id
    assert catalog.resolve("default")[0] == "default"


@pytest.mark.parametrize(
    ("text", "file_name"),
    [("id: [unclosed\n", "broken.yaml"), ('id = "x"\nversion = \n', "broken.toml"), ("id: x\n", "thin.yml")],
)
def test_an_invalid_upload_has_the_error_the_cli_gives_for_the_same_file(catalog, tmp_path, text, file_name):
    on_disk = tmp_path / file_name
    on_disk.write_text(text)
    with pytest.raises(RubricError) as cli:
        load_rubric_file(on_disk)
    with pytest.raises(RubricError) as uploaded:
        catalog.add_upload(text.encode(), file_name)
    assert uploaded.value.message == cli.value.message.replace(str(on_disk), file_name)
    assert not (tmp_path / "data" / "rubrics").exists() or not list((tmp_path / "data" / "rubrics").iterdir())


def test_an_upload_that_is_not_a_rubric_file_is_refused(catalog):
    with pytest.raises(RubricError, match=r"notes.txt: a rubric file ends in \.yaml, \.yml, \.toml"):
        catalog.add_upload(b"id: x", "notes.txt")
    with pytest.raises(RubricError, match="not UTF-8 text"):
        catalog.add_upload(b"\xff\xfe\x00id", "r.yaml")
    with pytest.raises(RubricError, match="at most 512 KB"):
        catalog.add_upload(b"#" * (513 * 1024), "r.yaml")
