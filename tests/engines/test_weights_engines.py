"""``--weight`` on every engine: the arrow and duckdb engines give identical JSON (weights are
summed exactly, so DuckDB's threads cannot change a bit), and a bad weight is one line naming
the file, the column and the rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import bias_ledger
from bias_ledger.errors import InputError
from tests.engines.data import frame, hive_directory, write

BINARY: dict[str, Any] = {
    "label": "label",
    "prediction": "prediction",
    "sensitive": ["sex", "region"],
    "weight": "w",
}
MULTICLASS: dict[str, Any] = {
    "label": "klass",
    "prediction": "guess",
    "sensitive": ["sex"],
    "task": "multiclass_classification",
    "weight": "w",
}


def weighted_frame(seed: int, rows: int, *, missing: bool = False) -> pa.Table:
    """The engines' test data with a weight column spanning many binary exponents."""
    table = frame(seed, rows, missing=missing)
    rng = np.random.default_rng(seed + 100)
    weights = rng.gamma(2.0, 1.0, rows) * 10.0 ** rng.integers(-4, 5, rows)
    weights[rng.random(rows) < 0.03] = 0.0
    return table.append_column("w", pa.array(weights))


def _document(result: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(result.to_json()))
    document["parameters"].pop("engine")
    return document


def _same(path: Path, **args: Any) -> dict[str, Any]:
    arrow = _document(bias_ledger.audit(path, **args))
    duck = _document(bias_ledger.audit(path, **args, engine="duckdb"))
    assert duck == arrow
    return arrow


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_binary_and_multiclass_identical_on_duckdb(tmp_path: Path, suffix: str) -> None:
    path = write(weighted_frame(1, 6_000), tmp_path / f"data{suffix}")
    binary = _same(path, **BINARY)
    assert binary["parameters"]["weight"] == "w"
    assert binary["parameters"]["ci_level"] is None
    overall = binary["results"]["overall"]
    assert overall["metrics"]["count"]["value"] == 6_000  # rows; the counts are weight sums
    assert isinstance(overall["counts"]["true_positives"], float)
    weights = binary["statistics"]["weights"]
    assert weights["column"] == "w"
    assert binary["statistics"]["intervals"] is None
    assert binary["statistics"]["significance"] is None
    multiclass = _same(path, **MULTICLASS)
    assert multiclass["statistics"]["weights"]["column"] == "w"
    regression = _same(path, **{**BINARY, "task": "regression"})
    assert regression["statistics"]["weights"]["column"] == "w"
    # Weighting changes the numbers: the same audit without it differs.
    plain = _document(bias_ledger.audit(path, **{**BINARY, "weight": None}))
    assert "weight" not in plain["parameters"]
    assert plain["results"]["overall"]["metrics"] != overall["metrics"]


def test_missing_values_dropped_and_hive_directory(tmp_path: Path) -> None:
    table = weighted_frame(2, 5_000, missing=True)
    path = write(table, tmp_path / "data.csv")
    args = {**BINARY, "missing_as_group": True, "drop_missing": True}
    document = _same(path, **args)
    assert document["data"]["dropped_rows"] > 0
    root = hive_directory(weighted_frame(3, 4_000), tmp_path / "dataset", by="region")
    expected = _document(
        bias_ledger.audit(write(weighted_frame(3, 4_000), tmp_path / "a.parquet"), **BINARY)
    )
    found = _document(bias_ledger.audit(root, **BINARY, engine="duckdb"))
    assert found["results"] == expected["results"]


def test_sample_weight_array_equals_weight_column(tmp_path: Path) -> None:
    table = weighted_frame(4, 3_000)
    by_column = bias_ledger.audit(table, **BINARY)
    by_array = bias_ledger.audit(
        table.drop_columns(["w"]),
        **{**BINARY, "weight": None},
        sample_weight=table.column("w").to_numpy(),
    )
    assert by_array.parameters["weight"] == "sample_weight"
    assert by_array.to_json()["results"] == by_column.to_json()["results"]
    with pytest.raises(InputError, match="needs data as a table"):
        bias_ledger.audit(
            write(table, tmp_path / "d.csv"), **{**BINARY, "weight": None}, sample_weight=[1.0]
        )
    with pytest.raises(InputError, match="sample_weight has 2 values; expected one per row"):
        bias_ledger.audit(table, **{**BINARY, "weight": None}, sample_weight=[1.0, 2.0])


@pytest.mark.parametrize(
    ("values", "found"),
    [
        (["1.5", "-2", "3"], r"1 bad weight\(s\) \(-2.0\) in row 2 \(a 1-based data row\)"),
        (["1.5", "", "3"], r"1 bad weight\(s\) \(missing\) in row 2 "),
        (["1.5", "2", "heavy"], r"found 'heavy' in row 3 "),
        (["1.5", "inf", "3"], r"1 bad weight\(s\) \(inf\) in row 2 "),
    ],
)
def test_bad_weight_is_one_line_naming_file_column_and_row(
    tmp_path: Path, values: list[str], found: str
) -> None:
    path = tmp_path / "bad.csv"
    rows = ["label,prediction,sex,w"] + [
        f"{i % 2},{(i // 2) % 2},{'ab'[i % 2]},{value}" for i, value in enumerate(values)
    ]
    path.write_text("\n".join(rows) + "\n")
    args = {**BINARY, "sensitive": ["sex"]}
    with pytest.raises(InputError, match=rf"^{path}: weight column 'w' .*{found}") as arrow:
        bias_ledger.audit(path, **args)
    # DuckDB names the rows of one file as the arrow engine does, in the same words.
    with pytest.raises(InputError) as duck:
        bias_ledger.audit(path, **args, engine="duckdb")
    assert str(duck.value) == str(arrow.value)


def test_cli_weight_option_config_key_and_refusals(tmp_path: Path) -> None:
    path = write(weighted_frame(5, 2_000), tmp_path / "data.parquet")
    base = [sys.executable, "-m", "bias_ledger", "audit", str(path), "--no-record", "--json"]
    columns = ["--label", "label", "--prediction", "prediction", "--sensitive", "sex"]

    def run(*extra: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *columns, *extra], capture_output=True, text=True, cwd=cwd, check=False
        )

    done = run("--weight", "w")
    assert done.returncode == 0, done.stderr
    expected = bias_ledger.audit(
        path, label="label", prediction="prediction", sensitive="sex", weight="w"
    )
    document = json.loads(done.stdout)
    assert document["results"] == json.loads(json.dumps(expected.to_json()))["results"]
    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / "bias-ledger.toml").write_text('weight = "w"\n')
    from_config = run(cwd=configured)
    assert from_config.returncode == 0, from_config.stderr
    assert json.loads(from_config.stdout)["results"] == document["results"]
    for extra, message in (
        (["--ci", "0.9"], "--ci with --weight w: confidence intervals"),
        (["--bootstrap", "100"], "--bootstrap with --weight w"),
        (["--weight", "nope"], "no weight column 'nope'"),
    ):
        refused = run("--weight", "w", *extra) if extra[0] != "--weight" else run(*extra)
        assert refused.returncode == 2, refused.stderr
        assert message in refused.stderr
        assert "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    regression = ["--task", "regression", "--weight", "w"]
    assert run(*regression).returncode == 0
    law = subprocess.run(
        [*base, "--label", "label", "--prediction", "prediction", "--standard", "nyc-ll144",
         "--weight", "w"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert law.returncode == 2
    assert "--standard nyc-ll144 does not take --weight" in law.stderr
    # Weighted score metrics: every engine computes them, with the same output.
    arrow = run("--weight", "w", "--score", "region", "--threshold", "2")
    scored = run("--weight", "w", "--score", "region", "--threshold", "2", "--engine", "duckdb")
    assert arrow.returncode == scored.returncode == 0, scored.stderr


def test_weighted_record_recomputes_on_every_engine(tmp_path: Path) -> None:
    from bias_ledger.bundle.export import Selection, export_bundle
    from bias_ledger.bundle.read import read_bundle
    from bias_ledger.bundle.recompute import recompute_bundle
    from bias_ledger.ledger.keys import generate_key
    from bias_ledger.ledger.record import RecordKind
    from bias_ledger.ledger.store import append_record, init_ledger
    from bias_ledger.records.payloads import audit_payload

    path = write(weighted_frame(6, 3_000), tmp_path / "data.parquet")
    ledger = tmp_path / "ledger"
    init_ledger(ledger, name="weights", format_version=1)  # export_bundle writes format 1
    key = generate_key()
    for args in (BINARY, MULTICLASS):
        result = bias_ledger.audit(path, **args, engine="duckdb")
        append_record(ledger, RecordKind.AUDIT, audit_payload(result, None), key)
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(export_bundle(ledger, Selection(everything=True)).data)
    report = recompute_bundle(read_bundle(bundle), data=path, predictions=None)
    assert report.ok, [m.describe() for r in report.records for m in r.mismatches]
    assert len(report.records) == 2
