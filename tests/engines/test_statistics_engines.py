"""Score and regression audits on the duckdb engine give the arrow engine's JSON, whole:
distinct-value and equal-width score histograms, probabilities and logits, thresholds and
prediction columns, regression sums, missing values, CSV, Parquet and a hive directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import bias_ledger
from bias_ledger.errors import InputError
from tests.engines.data import hive_directory, write
from tests.engines.scored import scored

SENSITIVE = ["sex", "region"]
SCORES: list[dict[str, Any]] = [
    {"label": "label", "prediction": "prediction", "score": "probability"},
    {"label": "label", "score": "logit", "threshold": 0.25, "thresholds": [-1.0, 0.0, 2.5]},
    {"label": "label", "score": "grade", "threshold": 0.5, "thresholds": [0.3, 0.5]},
]
REGRESSION: dict[str, Any] = {"label": "target", "prediction": "estimate", "task": "regression"}


def _document(result: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(result.to_json()))
    document["parameters"].pop("engine")
    return document


def _same(path: Path, **args: Any) -> dict[str, Any]:
    arrow = _document(bias_ledger.audit(path, **args))
    assert _document(bias_ledger.audit(path, **args, engine="duckdb")) == arrow
    return arrow


@pytest.mark.parametrize("args", SCORES)
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_score_audits(tmp_path: Path, suffix: str, args: dict[str, Any]) -> None:
    path = write(scored(1, 4_000), tmp_path / f"data{suffix}")
    document = _same(path, **args, sensitive=SENSITIVE)
    histogram = document["statistics"]["scores"]["histogram"]
    assert histogram["fine_bins"] == "distinct scores" and histogram["roc_auc_exact"]


@pytest.mark.slow
def test_equal_width_histograms_with_missing_values(tmp_path: Path) -> None:
    # More distinct logits than 2**16 bins: the histograms are binned, in SQL as in numpy.
    path = write(scored(2, 70_000, missing=True), tmp_path / "data.parquet")
    options: dict[str, Any] = {
        "drop_missing": True,
        "missing_as_group": True,
        "sensitive": SENSITIVE,
    }
    document = _same(path, **SCORES[1], **options)
    histogram = document["statistics"]["scores"]["histogram"]
    assert histogram["fine_bins"].startswith("equal width")
    assert 0 < histogram["roc_auc_max_error_bound"] < 1e-4
    assert document["data"]["dropped_rows"] > 0


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_regression_audits(tmp_path: Path, suffix: str) -> None:
    path = write(scored(3, 5_000, missing=True), tmp_path / f"data{suffix}")
    options: dict[str, Any] = {
        "drop_missing": True,
        "missing_as_group": True,
        "sensitive": SENSITIVE,
    }
    document = _same(path, **REGRESSION, **options)
    assert document["parameters"]["task"] == "regression" and document["data"]["dropped_rows"] > 0


def test_hive_directory(tmp_path: Path) -> None:
    table = scored(4, 3_000)
    single = write(table, tmp_path / "all.parquet")
    root = hive_directory(table, tmp_path / "dataset", by="region")
    for args in (REGRESSION, SCORES[0]):
        expected = _document(bias_ledger.audit(single, **args, sensitive=SENSITIVE))
        found = _document(bias_ledger.audit(root, **args, sensitive=SENSITIVE, engine="duckdb"))
        assert found["results"] == expected["results"]
        assert found["statistics"] == expected["statistics"]


def test_bad_values_are_one_line(tmp_path: Path) -> None:
    path = write(scored(5, 500, missing=True), tmp_path / "data.parquet")
    base: dict[str, Any] = {"sensitive": ["region"], "engine": "duckdb"}
    with pytest.raises(InputError, match=r"score column 'sex' must be numeric"):
        bias_ledger.audit(path, label="label", score="sex", threshold=0.5, **base)
    # A missing label is named before a missing score, with its rows, as on the arrow engine.
    args: dict[str, Any] = {"label": "label", "score": "logit", "threshold": 0.5}
    with pytest.raises(InputError, match=r"label column 'label' has \d+ missing values?") as arrow:
        bias_ledger.audit(path, **args, sensitive=["region"])
    with pytest.raises(InputError) as duckdb:
        bias_ledger.audit(path, **args, **base)
    assert str(duckdb.value) == str(arrow.value)
    with pytest.raises(InputError, match=r"prediction column 'estimate' has \d+ missing values?"):
        bias_ledger.audit(path, **REGRESSION, **base)
    with pytest.raises(InputError, match=r"label column 'klass' must be numeric"):
        bias_ledger.audit(path, label="klass", prediction="target", task="regression", **base)
