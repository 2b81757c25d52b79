from pathlib import Path

import pytest
import yaml

from reviewer.errors import RubricError
from reviewer.rubric import CriterionKind, load_rubric

DEFAULT_IDS = {
    "evaluation_first": "vendor",
    "operated_own_product": "vendor",
    "data_safety": "vendor",
    "avoids_lock_in": "vendor",
    "operates_and_improves": "vendor",
    "acceptance_criteria": "contract",
    "data_ownership": "contract",
    "operations_retraining": "contract",
    "handover": "contract",
}


def small_rubric(**criterion_overrides) -> dict:
    criterion = {
        "id": "data_safety",
        "title": "Data safety",
        "kind": "vendor",
        "weight": 2,
        "description": "Says where data goes.",
        "guidance": {"met": "Says it all.", "partial": "Says some.", "red_flag": "Reuses data."},
    }
    criterion.update(criterion_overrides)
    return {"id": "mini", "version": "0.1", "title": "Mini", "criteria": [criterion]}


def write_yaml(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_default_rubric_has_exactly_the_nine_criteria_with_their_kinds():
    rubric = load_rubric()
    assert {c.id: c.kind.value for c in rubric.criteria} == DEFAULT_IDS
    assert rubric.criterion_ids[:5] == list(DEFAULT_IDS)[:5]
    for criterion in rubric.criteria:
        assert criterion.weight > 0
        assert criterion.guidance.met and criterion.guidance.partial and criterion.guidance.red_flag


def test_rubric_loads_from_yaml_and_toml_files(tmp_path):
    rubric = load_rubric(write_yaml(tmp_path, small_rubric()))
    assert rubric.criteria[0].kind is CriterionKind.VENDOR
    toml = tmp_path / "mine.toml"
    toml.write_text(
        'id = "mini"\nversion = "2"\ntitle = "Mini"\n[[criteria]]\nid = "handover"\ntitle = "Handover"\n'
        'kind = "contract"\nweight = 1\ndescription = "d"\n'
        '[criteria.guidance]\nmet = "m"\npartial = "p"\nred_flag = "r"\n'
    )
    assert load_rubric(toml).criteria[0].id == "handover"


def test_invalid_field_error_names_the_file_the_criterion_and_the_field(tmp_path):
    path = write_yaml(tmp_path, small_rubric(weight=-1))
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    message = caught.value.message
    assert str(path) in message
    assert "criterion 'data_safety'" in message
    assert "field 'weight'" in message


def test_missing_guidance_field_and_bad_kind_are_both_reported(tmp_path):
    raw = small_rubric(kind="supplier", guidance={"met": "m", "partial": "p"})
    with pytest.raises(RubricError) as caught:
        load_rubric(write_yaml(tmp_path, raw))
    assert "field 'kind'" in caught.value.message
    assert "field 'guidance.red_flag'" in caught.value.message


def test_criterion_ids_must_be_snake_case_and_unique(tmp_path):
    with pytest.raises(RubricError, match="field 'id'"):
        load_rubric(write_yaml(tmp_path, small_rubric(id="Data Safety")))
    raw = small_rubric()
    raw["criteria"].append(dict(raw["criteria"][0]))
    with pytest.raises(RubricError, match="more than once"):
        load_rubric(write_yaml(tmp_path, raw))


def test_unknown_rubric_name_lists_the_bundled_ones():
    with pytest.raises(RubricError) as caught:
        load_rubric("no_such_rubric")
    assert caught.value.code == "unknown_rubric"
    assert "default" in caught.value.message


def test_unparseable_rubric_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    assert "not valid YAML" in caught.value.message
    assert "\n" not in caught.value.message


def test_every_command_finds_a_team_rubric_by_name(tmp_path, monkeypatch, capsys):
    """REVIEWER_RUBRICS_DIR is one catalog for review, bulk and rubrics alike."""
    import shutil

    from reviewer.cli import main
    from reviewer.rubric import BUNDLED_RUBRICS_DIR

    team = tmp_path / "team-rubrics"
    team.mkdir()
    text = (BUNDLED_RUBRICS_DIR / "default.yaml").read_text().replace("id: ", "id: team_", 1)
    (team / "team.yaml").write_text(text)
    monkeypatch.setenv("REVIEWER_RUBRICS_DIR", str(team))
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    sample = Path(__file__).resolve().parent.parent / "samples" / "coral_data.pdf"
    shutil.copy(sample, tmp_path / "coral_data.pdf")

    assert main(["rubrics"]) == 0
    assert "team\tteam_" in capsys.readouterr().out
    assert main(["review", "coral_data.pdf", "--rubric", "team", "--backend", "offline", "--format", "json"]) == 0
    assert '"id": "team_' in capsys.readouterr().out
    out_dir = tmp_path / "out"
    assert (
        main(
            [
                "bulk",
                "coral_data.pdf",
                "--rubric",
                "team",
                "--backend",
                "offline",
                "--no-progress",
                "--out",
                str(out_dir),
            ]
        )
        == 0
    )
    assert (out_dir / "comparison.csv").exists()


@pytest.mark.parametrize(
    ("name", "text", "where", "problem"),
    [
        ("broken.yaml", "id: x\nversion: '1'\ntitle: [a, b\ncriteria: []\n", ":4:9:", "flow sequence (from line 3)"),
        ("tabs.yaml", "id: x\n\ttitle: t\n", ":2:1:", "tab character"),
        ("broken.toml", 'id = "x"\ntitle = \n', ":2:9:", "Invalid value"),
    ],
)
def test_a_syntax_error_names_the_file_line_and_column_in_one_line(tmp_path, name, text, where, problem):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    message = caught.value.message
    assert message.startswith(f"{path}{where} not valid {path.suffix[1:].upper()}: ")
    assert problem in message and "\n" not in message


@pytest.mark.parametrize(("written", "stored"), [("0.1", "0.1"), ("2", "2"), ("'1.0'", "1.0")])
def test_an_unquoted_numeric_version_is_kept_as_text(tmp_path, written, stored):
    raw = yaml.safe_dump(small_rubric()).replace("version: '0.1'", f"version: {written}")
    path = tmp_path / "mine.yaml"
    path.write_text(raw)
    assert load_rubric(path).version == stored
    toml = tmp_path / "mine.toml"
    toml_version = written.replace("'", '"')
    toml.write_text(f'id = "mini"\nversion = {toml_version}\ntitle = "t"\n')
    with pytest.raises(RubricError, match="criteria"):  # the version passes; the missing criteria do not
        load_rubric(toml)
