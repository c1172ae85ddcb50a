"""The duckdb engine gives exactly the arrow engine's results (whole JSON), on every format,
task, join and layout it reads, and names bad input in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import blake3
import pyarrow as pa
import pytest

import bias_ledger
from bias_ledger.errors import InputError
from bias_ledger.ledger import canonical
from tests.engines.data import frame, hive_directory, write

BINARY: dict[str, Any] = {
    "label": "label",
    "prediction": "prediction",
    "sensitive": ["sex", "region"],
}


def _document(result: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(result.to_json()))
    document["parameters"].pop("engine")
    return document


def _same(path: Path | str, **args: Any) -> Any:
    arrow = bias_ledger.audit(path, **args)
    duck = bias_ledger.audit(path, **args, engine="duckdb")
    assert duck.parameters["engine"] == "duckdb"
    assert _document(duck) == _document(arrow)
    return duck


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet", ".jsonl"])
def test_binary_every_format(tmp_path: Path, suffix: str) -> None:
    path = write(frame(1, 3_000), tmp_path / f"data{suffix}")
    _same(path, **BINARY)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param({**BINARY, "bootstrap": 200, "seed": 7}, id="bootstrap"),
        pytest.param({**BINARY, "min_group_size": 0, "ci": None}, id="no-intervals"),
        pytest.param(
            {
                "label": "klass",
                "prediction": "guess",
                "sensitive": ["sex", "region"],
                "task": "multiclass_classification",
            },
            id="multiclass",
        ),
        pytest.param({**BINARY, "references": {"sex": "female"}}, id="reference"),
    ],
)
def test_tasks_and_options(tmp_path: Path, args: dict[str, Any]) -> None:
    path = write(frame(2, 4_000), tmp_path / "data.parquet")
    _same(path, **args)


def test_missing_values_as_group_and_dropped(tmp_path: Path) -> None:
    path = write(frame(3, 5_000, missing=True), tmp_path / "data.csv")
    result = _same(path, **BINARY, missing_as_group=True, drop_missing=True)
    assert result.dropped_rows > 0
    with pytest.raises(InputError, match=r"label column 'label' has \d+ missing values"):
        bias_ledger.audit(path, **BINARY, missing_as_group=True, engine="duckdb")
    with pytest.raises(InputError, match=r"sensitive column 'sex' has \d+ missing values"):
        bias_ledger.audit(path, **BINARY, drop_missing=True, engine="duckdb")


def test_id_join_of_two_files(tmp_path: Path) -> None:
    table = frame(4, 3_000)
    data = write(table.select(["id", "label", "sex", "region"]), tmp_path / "data.csv")
    shuffled = table.select(["id", "prediction"]).take(pa.array(range(2_999, -1, -1)))
    predictions = write(shuffled, tmp_path / "predictions.parquet")
    args = {**BINARY, "predictions": predictions, "id_column": "id"}
    arrow = bias_ledger.audit(data, **args)
    duck = bias_ledger.audit(data, **args, engine="duckdb")
    assert _document(duck) == _document(arrow)

    extra = write(pa.concat_tables([shuffled, shuffled.slice(0, 2)]), tmp_path / "twice.parquet")
    twice = r"twice.parquet: id column 'id' has 2 duplicated ids \(2 extra rows\)"
    with pytest.raises(InputError, match=twice):
        bias_ledger.audit(data, **{**args, "predictions": extra}, engine="duckdb")
    fewer = write(shuffled.slice(5), tmp_path / "fewer.parquet")
    with pytest.raises(InputError, match=r"5 ids in .*data.csv are not in .*fewer.parquet"):
        bias_ledger.audit(data, **{**args, "predictions": fewer}, engine="duckdb")


def test_hive_partitioned_directory_and_glob(tmp_path: Path) -> None:
    table = frame(5, 6_000)
    single = write(table, tmp_path / "all.parquet")
    root = hive_directory(table, tmp_path / "dataset", by="sex")
    expected = _document(bias_ledger.audit(single, **BINARY))
    duck = bias_ledger.audit(root, **BINARY, engine="duckdb")
    document = _document(duck)
    assert document["results"] == expected["results"]
    assert document["statistics"] == expected["statistics"]
    (recorded,) = document["inputs"]
    files = sorted(path for path in root.rglob("*.parquet"))
    entries: list[dict[str, Any]] = [
        {
            "blake3": blake3.blake3(path.read_bytes()).hexdigest(),
            "path": path.relative_to(root).as_posix(),
            "size": path.stat().st_size,
        }
        for path in files
    ]
    assert recorded["manifest"] == sorted(entries, key=lambda item: str(item["path"]))
    assert recorded["blake3"] == blake3.blake3(canonical.encode(entries)).hexdigest()
    assert recorded["rows"] == 6_000
    assert all(not entry["path"].startswith("_") for entry in recorded["manifest"])

    globbed = bias_ledger.audit(str(root / "*" / "*.parquet"), **BINARY, engine="duckdb")
    assert _document(globbed)["results"] == expected["results"]


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    path = write(frame(6, 500), tmp_path / "data.parquet")
    with pytest.raises(InputError, match=r"data.parquet: no sensitive column 'gender'"):
        bias_ledger.audit(
            path, label="label", prediction="prediction", sensitive=["gender"], engine="duckdb"
        )
    with pytest.raises(InputError, match=r"label column 'klass' must be binary"):
        bias_ledger.audit(
            path, label="klass", prediction="prediction", sensitive=["sex"], engine="duckdb"
        )
    with pytest.raises(InputError, match=r"the pattern matches no file"):
        bias_ledger.audit(str(tmp_path / "none-*.parquet"), **BINARY, engine="duckdb")
    with pytest.raises(InputError, match=r"score column 'sex' must be numeric"):
        bias_ledger.audit(
            path, label="label", score="sex", threshold=0.5, sensitive=["sex"], engine="duckdb"
        )
    with pytest.raises(InputError, match=r"--engine 'polars': expected one of arrow, duckdb"):
        bias_ledger.audit(path, **BINARY, engine="polars")


@pytest.mark.parametrize(
    ("positive", "negative", "pos_label"),
    [("yes", "no", "yes"), ("no", "yes", "no"), ("t", "f", "t"), ("True", "False", "True")],
)
def test_pos_label_on_csv_words_duckdb_sniffs_as_booleans(
    tmp_path: Path, positive: str, negative: str, pos_label: str
) -> None:
    """DuckDB's CSV sniffer reads yes/no and t/f as BOOLEAN, so --pos-label yes found only
    True/False; the label and prediction are read as the text the arrow engine sees."""
    rows = ["label,prediction,sex"] + [
        f"{positive if i % 3 else negative},{positive if i % 4 else negative},{'mf'[i % 2]}"
        for i in range(60)
    ]
    path = tmp_path / "words.csv"
    path.write_text("\n".join(rows) + "\n")
    result = _same(
        path, label="label", prediction="prediction", sensitive=["sex"], pos_label=pos_label
    )
    counts = result.to_json()["results"]["overall"]["counts"]
    assert counts["true_positives"] == sum(1 for i in range(60) if i % 3 and i % 4)
    with pytest.raises(InputError, match="the positive label 'maybe' is not one of its values"):
        bias_ledger.audit(
            path, **{**BINARY, "sensitive": ["sex"]}, pos_label="maybe", engine="duckdb"
        )


@pytest.mark.parametrize(
    ("values", "groups"),
    [
        (("yes", "no", "Yes", "No"), ["No", "Yes", "no", "yes"]),
        (("t", "f"), ["f", "t"]),
        (("y", "n"), ["n", "y"]),
        (("true", "false", "TRUE"), ["False", "True"]),
    ],
)
def test_sensitive_csv_words_duckdb_sniffs_as_booleans_keep_their_groups(
    tmp_path: Path, values: tuple[str, ...], groups: list[str]
) -> None:
    """DuckDB's sniffer read yes/no, y/n and t/f as BOOLEAN: Yes and yes merged into one group
    named True, silently unlike the arrow engine. Only pyarrow's true/false spellings are
    booleans on both engines; any other word is a group of its own text."""
    rows = ["label,prediction,veteran"] + [
        f"{i % 2},{(i // 2) % 2},{values[i % len(values)]}" for i in range(120)
    ]
    path = tmp_path / "veteran.csv"
    path.write_text("\n".join(rows) + "\n")
    result = _same(path, label="label", prediction="prediction", sensitive=["veteran"])
    (feature,) = result.to_json()["results"]["features"]
    assert [group["group"] for group in feature["groups"]] == [[g] for g in groups]
