"""A regression row whose squared error (or residual) overflows a float64: the metrics reading
it are null with a reason on every engine, in the same JSON, the others equal scikit-learn's,
and the record is written and verifies. Before: an internal error on arrow (a Python integer
too large for a float), a DuckDB cast error on duckdb."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import sklearn.metrics as skm

from bias_ledger.metrics.exact_sum import ExactSums
from bias_ledger.metrics.regression_sums import Overflow, RegressionSums
from tests.engines.data import write
from tests.ledger.helpers import cli_env, new_signer, run_cli

# Group a: one residual of 2e200, whose square (4e400) is no float64; its |residual| is.
# Group c: a residual of 3e308, itself beyond the largest float64 (1.8e308).
# Group b: ordinary values.
ROWS = {
    "a": [(1e200, -1e200), (3.0, 5.0), (2.5, 2.0)],
    "b": [(1.0, 2.0), (4.0, 3.5), (10.0, 7.0), (0.25, 0.5)],
    "c": [(-1.5e308, 1.5e308), (2.0, 1.0)],
}
SQUARED = "a row's squared error overflows a 64-bit float"
RESIDUAL = "a row's residual (prediction - label) overflows a 64-bit float"
ENGINES = ["arrow", "duckdb", "spark"] if shutil.which("java") else ["arrow", "duckdb"]


def _table() -> pa.Table:
    groups = [g for g, rows in ROWS.items() for _ in rows]
    labels = [y for rows in ROWS.values() for y, _ in rows]
    predictions = [p for rows in ROWS.values() for _, p in rows]
    return pa.table({"g": groups, "y": labels, "p": predictions})


def _strict(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the JSON output")

    return json.loads(text, parse_constant=refuse)


def _audit(path: Path, engine: str, tmp_path: Path) -> dict[str, Any]:
    env = cli_env(tmp_path)
    args: list[str | Path] = [
        "audit",
        path,
        "--label",
        "y",
        "--prediction",
        "p",
        "--task",
        "regression",
    ]
    done = run_cli(
        *args, "--sensitive", "g", "--engine", engine, "--no-record", "--json", env=env,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Warning: overflow" not in done.stderr
    assert "RuntimeWarning" not in done.stderr, done.stderr
    document: dict[str, Any] = _strict(done.stdout)
    assert document["parameters"].pop("engine") == engine
    return document


def _metrics(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (feature,) = document["results"]["features"]
    return {item["group"][0]: item["metrics"] for item in feature["groups"]}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_overflowing_squared_error_is_null_with_a_reason_on_every_engine(
    tmp_path: Path, suffix: str
) -> None:
    path = write(_table(), tmp_path / f"data{suffix}")
    documents = {engine: _audit(path, engine, tmp_path) for engine in ENGINES}
    first = documents["arrow"]
    for engine, document in documents.items():
        assert document["results"] == first["results"], engine
        assert document["statistics"] == first["statistics"], engine
    metrics = _metrics(first)
    assert metrics["a"]["root_mean_squared_error"] == {"value": None, "reason": SQUARED}
    for key in ("mean_absolute_error", "root_mean_squared_error", "mean_residual"):
        assert metrics["c"][key] == {"value": None, "reason": RESIDUAL}, key
    overall = first["results"]["overall"]["metrics"]
    assert overall["root_mean_squared_error"]["value"] is None
    assert overall["mean_absolute_error"]["value"] is None  # group c's residual
    # What is still defined is scikit-learn's number.
    with np.errstate(over="ignore"):
        for group, rows in ROWS.items():
            y, p = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
            found = metrics[group]
            assert found["count"]["value"] == len(rows)
            assert found["mean_prediction"]["value"] == pytest.approx(np.mean(p), rel=1e-12)
            mae = skm.mean_absolute_error(y, p)
            if math.isfinite(mae):
                assert found["mean_absolute_error"]["value"] == pytest.approx(mae, rel=1e-12)
                residual = float(np.mean(p - y))
                assert found["mean_residual"]["value"] == pytest.approx(residual, rel=1e-12)
            mse = skm.mean_squared_error(y, p)
            if math.isfinite(mse):
                rmse = skm.root_mean_squared_error(y, p)
                assert found["root_mean_squared_error"]["value"] == pytest.approx(rmse, rel=1e-12)
            else:
                assert found["root_mean_squared_error"]["value"] is None
    # scikit-learn says inf for group a's squared error; the MAE stays a number.
    assert metrics["a"]["mean_absolute_error"]["value"] == pytest.approx(2e200 / 3, rel=1e-12)
    (feature,) = first["results"]["features"]
    disparities = {item["metric"]: item for item in feature["disparities"]}
    assert disparities["root_mean_squared_error"]["excluded_groups"] == [["a"], ["c"]]
    assert disparities["mean_absolute_error"]["excluded_groups"] == [["c"]]


def test_overflow_is_recorded_and_the_record_verifies(tmp_path: Path) -> None:
    path = write(_table(), tmp_path / "data.parquet")
    signer = new_signer(tmp_path / "key")
    env = cli_env(
        tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"), BIAS_LEDGER_KEY=str(signer.path)
    )
    assert run_cli("init", env=env).returncode == 0
    args: list[str | Path] = [
        "audit",
        path,
        "--label",
        "y",
        "--prediction",
        "p",
        "--task",
        "regression",
    ]
    done = run_cli(*args, "--sensitive", "g", "--engine", "duckdb", "--json", env=env)
    assert done.returncode == 0, done.stderr
    metrics = _metrics(_strict(done.stdout))
    assert metrics["a"]["root_mean_squared_error"]["reason"] == SQUARED
    shown = run_cli("show", "0", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    assert SQUARED in shown.stdout and "Infinity" not in shown.stdout and "NaN" not in shown.stdout
    verified = run_cli("verify", "--trusted-key", signer.fingerprint, env=env)
    assert verified.returncode == 0, verified.stderr


def test_exact_sums_mark_a_cell_given_an_infinite_value() -> None:
    sums = ExactSums()
    values = np.array([1.5, np.inf, 2.0, -0.25, 3.0])
    sums.add(np.array([0, 1, 1, 2, 0]), values)
    assert (sums.finite(0), sums.finite(1), sums.finite(2)) == (True, False, True)
    assert (sums.total(0), sums.total(2)) == (4.5, -0.25)
    other = ExactSums()
    other.add(np.array([0, 2]), np.array([1.0, -np.inf]))
    sums.merge(other)
    assert (sums.finite(0), sums.finite(2)) == (True, False)
    regrouped = sums.regrouped([0, 0, 1], 1, 2)
    assert (regrouped.finite(0), regrouped.finite(1)) == (False, False)
    marked = ExactSums()
    marked.mark_nonfinite(3)
    assert marked.cells == 4 and not marked.finite(3) and marked.finite(0)


def test_a_weighted_product_that_overflows_names_the_weight() -> None:
    sums = RegressionSums()
    codes = np.array([0, 0, 1])
    labels, predictions = np.array([1.0, 2.0, 3.0]), np.array([1e300, 2.0, 4.0])
    sums.add(codes, labels, predictions, weights=np.array([1e10, 1.0, 2.0]))
    with pytest.raises(Overflow, match="^a row's prediction times its weight overflows"):
        sums.mean(0, "prediction")
    assert sums.mean(1, "squared_error") == 1.0
    assert sums.mean(0, "label") == pytest.approx((1e10 + 2.0) / (1e10 + 1.0), rel=1e-15)


def test_the_terminal_table_writes_huge_means_in_scientific_notation(tmp_path: Path) -> None:
    """Before: group a's mean absolute error (6.7e199) was written as 200 digits."""
    import re

    path = write(_table(), tmp_path / "data.csv")
    args: list[str | Path] = ["audit", path, "--label", "y", "--prediction", "p"]
    done = run_cli(
        *args, "--task", "regression", "--sensitive", "g", "--no-record", env=cli_env(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert "6.667e+199" in done.stdout and "n/a" in done.stdout
    assert re.search(r"[0-9,]{30}", done.stdout) is None, done.stdout
