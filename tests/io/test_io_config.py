"""Config files: discovery, validation, relative paths and option precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_ledger.errors import ConfigError, InputError
from bias_ledger.io.config import AuditConfig, load_config
from bias_ledger.io.model import ColumnMapping, JoinMode

FULL = """\
data = "data/applicants.csv"
predictions = "data/predictions.parquet"
id = "id"
join = "id"
label = "repaid"
prediction = "approved"
score = "score"
threshold = 0.5
pos-label = 1
sensitive = ["sex", "race"]
model = "model.pkl"
model-name = "credit"
model-version = 2
missing-as-group = true
drop-missing = false
max-groups = 50
policy = "policy.toml"
min-group-size = 30

[reference]
sex = "male"
race = "White"
"""


def test_every_key(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "bias-ledger.toml"
    path.write_text(FULL)
    config = load_config(path, cwd=tmp_path)
    base = tmp_path / "conf"
    assert config == AuditConfig(
        source=path,
        data=base / "data/applicants.csv",
        predictions=base / "data/predictions.parquet",
        id_column="id",
        join=JoinMode.ID,
        label="repaid",
        prediction="approved",
        score="score",
        threshold=0.5,
        pos_label="1",
        sensitive=("sex", "race"),
        references={"sex": "male", "race": "White"},
        model=base / "model.pkl",
        model_name="credit",
        model_version="2",
        missing_as_group=True,
        drop_missing=False,
        max_groups=50,
        policy=base / "policy.toml",
        min_group_size=30,
    )
    assert config.column_mapping() == ColumnMapping(
        label="repaid",
        prediction="approved",
        score="score",
        threshold=0.5,
        pos_label="1",
        sensitive=("sex", "race"),
        id_column="id",
        join=JoinMode.ID,
        missing_as_group=True,
        drop_missing=False,
        max_groups=50,
    )


def test_discovery_order(tmp_path: Path) -> None:
    assert load_config(None, cwd=tmp_path) == AuditConfig()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(None, cwd=tmp_path) == AuditConfig()
    (tmp_path / "pyproject.toml").write_text('[tool.bias-ledger]\nlabel = "from_pyproject"\n')
    found = load_config(None, cwd=tmp_path)
    assert (found.label, found.source) == ("from_pyproject", tmp_path / "pyproject.toml")
    (tmp_path / "bias-ledger.toml").write_text('label = "from_own_file"\n')
    found = load_config(None, cwd=tmp_path)
    assert (found.label, found.source) == ("from_own_file", tmp_path / "bias-ledger.toml")
    explicit = tmp_path / "other.toml"
    explicit.write_text('label = "explicit"\n')
    assert load_config(explicit, cwd=tmp_path).label == "explicit"


def test_options_override_the_config(tmp_path: Path) -> None:
    path = tmp_path / "bias-ledger.toml"
    path.write_text(FULL)
    config = load_config(path, cwd=tmp_path)
    merged = config.with_options(
        label="outcome",
        prediction=None,
        sensitive=(),
        references={"race": "Asian"},
        join="row-order",
        drop_missing=True,
        missing_as_group=None,
    )
    assert merged.label == "outcome" and merged.prediction == "approved"
    assert merged.sensitive == ("sex", "race")
    assert merged.references == {"sex": "male", "race": "Asian"}
    assert merged.join == JoinMode.ROW_ORDER
    assert merged.drop_missing is True and merged.missing_as_group is True
    assert config.with_options(sensitive=["age"]).sensitive == ("age",)
    with pytest.raises(TypeError, match="unknown option 'lable'"):
        config.with_options(lable="x")


def test_defaults_of_the_column_mapping() -> None:
    mapping = (
        AuditConfig().with_options(label="y", prediction="p", sensitive=["g"]).column_mapping()
    )
    assert mapping == ColumnMapping(label="y", prediction="p", sensitive=("g",))
    assert (mapping.max_groups, mapping.missing_as_group, mapping.drop_missing) == (
        1000,
        False,
        False,
    )
    with pytest.raises(InputError, match="no label column"):
        AuditConfig().column_mapping()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('lable = "y"\n', "unknown key 'lable'; did you mean 'label'?"),
        ('colour = "y"\n', "unknown key 'colour'; known keys: data, predictions"),
        ('threshold = "high"\n', "key 'threshold' must be a number; found 'high'"),
        ("threshold = true\n", "key 'threshold' must be a number; found True"),
        ("sensitive = [1, 2]\n", "key 'sensitive' must be a list of strings"),
        ('join = "outer"\n', "key 'join' must be 'id' or 'row-order'; found 'outer'"),
        ("max-groups = -1\n", "key 'max-groups' must be a positive integer; found -1"),
        ('drop-missing = "yes"\n', "key 'drop-missing' must be true or false"),
        ("reference = 3\n", "key 'reference' must be a table of feature = group"),
        ("data = 5\n", "key 'data' must be a path (string); found 5"),
        ("label = [\n", "not valid TOML"),
    ],
)
def test_bad_config(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bias-ledger.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(None, cwd=tmp_path)
    assert str(path) in info.value.message and expected in info.value.message


def test_bad_key_in_pyproject_names_the_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.bias-ledger]\nsensitiv = ["sex"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(None, cwd=tmp_path)
    assert str(path) in info.value.message
    assert "'tool.bias-ledger.sensitiv'; did you mean 'sensitive'?" in info.value.message


def test_explicit_config_must_exist_and_have_the_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml: no such config file"):
        load_config(tmp_path / "missing.toml", cwd=tmp_path)
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n')
    with pytest.raises(ConfigError, match=r"no \[tool.bias-ledger\] table"):
        load_config(path, cwd=tmp_path)


def test_sample_config_audits_version_one() -> None:
    root = Path(__file__).resolve().parents[2] / "sample_data"
    config = load_config(None, cwd=root)
    assert config.data == root / "lending.csv" and config.data.is_file()
    assert (config.label, config.prediction, config.sensitive) == (
        "repaid",
        "approved_v1",
        ("sex", "race_ethnicity"),
    )
    assert (config.model_name, config.model_version) == ("credit-model", "1")
