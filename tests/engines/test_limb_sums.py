"""Regression sums as fixed-point limbs (statistics_sql.LimbPlan), on DuckDB and Spark: each
quantity's sum per group equals the exact rational sum of the float64 values numpy computes,
where the plan applies; where it does not (too wide a range, an overflow) the exponent-keyed
query takes over, and every audit gives the arrow engine's JSON whole."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bias_ledger
from bias_ledger.engines import statistics_sql as sql
from bias_ledger.engines.statistics import limb_plans
from bias_ledger.metrics.regression_sums import quantities


def _case(name: str, rows: int = 3_000) -> tuple[np.ndarray, np.ndarray, bool]:
    """(label, prediction, whether every quantity takes a limb plan)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    if name == "incomes":  # the benchmark's shape: two limbs a quantity
        label = rng.gamma(4.0, 12_000.0, rows)
        return label, label * rng.lognormal(0, 0.2, rows), True
    if name == "signed":  # residuals and values of both signs, some exactly zero
        label = np.round(rng.normal(0, 1e3, rows), 3)
        prediction = np.where(rng.random(rows) < 0.1, label, label + rng.normal(0, 5, rows))
        return label, prediction, True
    if name == "four limbs":  # squared errors over 2**-92 .. 2**92: four limbs
        label = np.zeros(rows)
        prediction = np.ldexp(rng.random(rows) + 0.5, rng.integers(-45, 46, rows))
        prediction[:2] = [2.0**-46, 2.0**46 * 1.999]
        return label, prediction * np.where(rng.random(rows) < 0.5, -1, 1), True
    if name == "five limbs":  # one more binade each way: the squared errors take the fallback
        label = np.zeros(rows)
        prediction = np.ldexp(rng.random(rows) + 0.5, rng.integers(-60, 61, rows))
        return label, prediction, False
    if name == "huge":  # scale factors far below 1 (2**-446 for the prediction)
        label = (1 + rng.random(rows)) * 1e150
        return label, label * (1.5 + rng.random(rows)), True
    if name == "tiny":  # squared errors near 1e-280: scale factors near 2**983
        label = (1 + rng.random(rows)) * 1e-140
        return label, label * (1.5 + rng.random(rows)), True
    if name == "too tiny":  # squared errors near 1e-300: 2**scale would overflow a double
        label = (1 + rng.random(rows)) * 1e-150
        return label, label * (1.5 + rng.random(rows)), False
    if name == "overflow":  # a squared error above 1.8e308 is infinite
        label = rng.random(rows)
        prediction = label.copy()
        prediction[7] = 1.5e200
        return label, prediction, False
    if name == "exact":  # every residual zero: no limbs at all for three quantities
        label = rng.integers(0, 50, rows).astype(np.float64)
        return label, label.copy(), True
    raise AssertionError(name)


CASES = ["incomes", "signed", "four limbs", "five limbs", "huge", "tiny", "too tiny"]
CASES += ["overflow", "exact"]


def _table(name: str) -> tuple[pa.Table, bool]:
    label, prediction, planned = _case(name)
    groups = np.random.default_rng(len(name)).choice(["a", "b", "c"], len(label))
    return pa.table({"g": groups, "y": label, "p": prediction}), planned


def _exact(table: pa.Table) -> dict[tuple[str, int], Fraction]:
    """Per (group, quantity), the exact rational sum of numpy's per-row values."""
    groups = np.asarray(table.column("g").to_pylist())
    columns = quantities(table.column("y").to_numpy(), table.column("p").to_numpy())
    out: dict[tuple[str, int], Fraction] = {}
    for group in np.unique(groups).tolist():
        chosen = groups == group
        for k, values in enumerate(columns):
            out[group, k] = sum((Fraction(v) for v in values[chosen].tolist()), Fraction(0))
    return out


def _limb_sums(
    run: Callable[[str], list[dict[str, Any]]], dialect: sql.Dialect, source: str
) -> dict[tuple[str, int], Fraction] | None:
    """The limb query's sums, or None when some quantity takes no plan."""
    items = sql.regression_ranges("y", "p")
    query = ", ".join(f"{aggregate} AS {alias}" for alias, aggregate in items)
    plans = limb_plans(run(f"SELECT {query} FROM {source}")[0], weighted=False)
    if plans is None:
        return None
    rows = run(sql.regression_limb_sums(dialect, source, ["g"], "y", "p", "", plans))
    return {
        (row["g"], k): sum(
            (Fraction(int(row[f"m_{k}_{i}"])) * Fraction(2) ** plan.exponent(i))
            for i in range(plan.limbs)
        )
        or Fraction(0)
        for row in rows
        for k, plan in enumerate(plans)
    }


@pytest.mark.parametrize("name", CASES)
def test_duckdb_limb_sums_are_exact(name: str) -> None:
    import duckdb

    table, planned = _table(name)
    connection = duckdb.connect()
    connection.register("rows", table)

    def run(query: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = connection.sql(query).to_arrow_table().to_pylist()
        return result

    found = _limb_sums(run, sql.duckdb_dialect(lambda name: f'"{name}"'), "rows")
    assert (found is not None) == planned
    if found is not None:
        assert found == _exact(table)


@pytest.mark.parametrize("name", CASES)
def test_duckdb_regression_audits_equal_the_arrow_engines(tmp_path: Path, name: str) -> None:
    table, _ = _table(name)
    path = tmp_path / "data.parquet"
    pq.write_table(table, path)
    args: dict[str, Any] = {"label": "y", "prediction": "p", "task": "regression"}
    documents = [
        json.loads(
            json.dumps(bias_ledger.audit(path, **args, sensitive=["g"], engine=engine).to_json())
        )
        for engine in ("arrow", "duckdb")
    ]
    for document in documents:
        document["parameters"].pop("engine")
    assert documents[0] == documents[1]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_spark_limb_sums_are_exact(spark: Any, tmp_path: Path) -> None:
    dialect = sql.spark_dialect(lambda name: f"`{name}`")

    def run(query: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in spark.sql(query).collect()]

    for name in ["signed", "four limbs", "huge", "tiny", "exact", "too tiny"]:
        table, planned = _table(name)
        path = tmp_path / f"{name}.parquet"
        pq.write_table(table, path)
        spark.read.parquet(str(path)).createOrReplaceTempView("limb_rows")
        found = _limb_sums(run, dialect, "limb_rows")
        assert (found is not None) == planned, name
        if found is not None:
            assert found == _exact(table), name


@pytest.mark.parametrize("dropped", [1e-200, 1e250, 3.0])
def test_rows_dropped_for_a_missing_label_only_widen_the_plan(
    tmp_path: Path, dropped: float
) -> None:
    # The ranges are taken over every row with values, dropped ones included: a bound.
    table, _ = _table("incomes")
    label = table.column("y").to_pylist()
    prediction = table.column("p").to_pylist()
    for row in range(0, len(label), 97):
        label[row], prediction[row] = None, dropped
    table = table.set_column(2, "p", pa.array(prediction, pa.float64()))
    table = table.set_column(1, "y", pa.array(label, pa.float64()))
    path = tmp_path / "data.parquet"
    pq.write_table(table, path)
    args: dict[str, Any] = {"label": "y", "prediction": "p", "task": "regression"}
    documents = []
    for engine in ("arrow", "duckdb"):
        result = bias_ledger.audit(path, **args, sensitive=["g"], engine=engine, drop_missing=True)
        document = json.loads(json.dumps(result.to_json()))
        document["parameters"].pop("engine")
        documents.append(document)
    assert documents[0]["data"]["dropped_rows"] == len(range(0, len(label), 97))
    assert documents[0] == documents[1]


@pytest.mark.parametrize(
    ("scores", "planned"),
    [
        ("probabilities", True),
        ("with zeros and ones", True),
        ("down to 1e-300", False),  # 2**scale would overflow a double: the exponent query
        ("all zero", True),  # no limbs at all
    ],
)
def test_calibration_sums_of_a_score_audit_equal_the_arrow_engines(
    tmp_path: Path, scores: str, planned: bool
) -> None:
    rng = np.random.default_rng(len(scores))
    rows = 4_000
    score = 1 / (1 + np.exp(-rng.normal(0, 2, rows)))
    if scores == "with zeros and ones":
        score[rng.random(rows) < 0.1] = 0.0
        score[rng.random(rows) < 0.1] = 1.0
    elif scores == "down to 1e-300":
        score[::50] = 1e-300
    elif scores == "all zero":
        score = np.zeros(rows)
    label = (rng.random(rows) < score).astype(np.int64)
    groups = rng.choice(["a", "b", "c"], rows)
    nonzero = score[score > 0]
    plan = sql.limb_plan(float(nonzero.min()) if len(nonzero) else None, float(score.max()))
    assert (plan is not None) == planned
    path = tmp_path / "scores.parquet"
    pq.write_table(pa.table({"g": groups, "y": label, "s": score}), path)
    args: dict[str, Any] = {"label": "y", "score": "s", "threshold": 0.5, "sensitive": ["g"]}
    documents = []
    for engine in ("arrow", "duckdb"):
        document = json.loads(json.dumps(bias_ledger.audit(path, **args, engine=engine).to_json()))
        document["parameters"].pop("engine")
        documents.append(document)
    assert documents[0] == documents[1]


@pytest.mark.parametrize("name", ["incomes", "signed", "four limbs", "five limbs", "exact"])
def test_weighted_regression_audits_equal_the_arrow_engines(tmp_path: Path, name: str) -> None:
    # Every quantity times the weight, and the weights' own sum: each planned from its range.
    table, _ = _table(name)
    weights = np.random.default_rng(7).gamma(2.0, 1.5, table.num_rows)
    weights[::11] = 0.0
    path = tmp_path / "weighted.parquet"
    pq.write_table(table.append_column("w", pa.array(weights)), path)
    args: dict[str, Any] = {"label": "y", "prediction": "p", "task": "regression", "weight": "w"}
    documents = []
    for engine in ("arrow", "duckdb"):
        result = bias_ledger.audit(path, **args, sensitive=["g"], engine=engine)
        document = json.loads(json.dumps(result.to_json()))
        document["parameters"].pop("engine")
        documents.append(document)
    assert documents[0]["statistics"]["weights"]["column"] == "w"
    assert documents[0] == documents[1]
