"""A real local Spark gives exactly the arrow engine's results, from files, a hive-partitioned
directory and a catalog table, with only aggregated rows reaching the driver."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import bias_ledger
from bias_ledger.errors import InputError
from tests.engines.data import frame, hive_directory, write

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

BINARY: dict[str, Any] = {
    "label": "label",
    "prediction": "prediction",
    "sensitive": ["sex", "region"],
}


def _document(result: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(result.to_json()))
    document["parameters"].pop("engine")
    return document


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_files_give_the_arrow_engines_json(spark: Any, tmp_path: Path, suffix: str) -> None:
    path = write(frame(11, 4_000, missing=True), tmp_path / f"data{suffix}")
    args = {**BINARY, "missing_as_group": True, "drop_missing": True, "bootstrap": 100, "seed": 3}
    arrow = bias_ledger.audit(path, **args)
    on_spark = bias_ledger.audit(path, **args, engine="spark")
    assert on_spark.parameters["engine"] == "spark"
    assert _document(on_spark) == _document(arrow)


def test_hive_directory_multiclass_and_catalog_table(spark: Any, tmp_path: Path) -> None:
    table = frame(12, 5_000)
    single = write(table, tmp_path / "all.parquet")
    root = hive_directory(table, tmp_path / "dataset", by="region")
    for args in (
        BINARY,
        {
            "label": "klass",
            "prediction": "guess",
            "sensitive": ["sex"],
            "task": "multiclass_classification",
        },
    ):
        expected = _document(bias_ledger.audit(single, **args))
        found = _document(bias_ledger.audit(root, **args, engine="spark"))
        assert found["results"] == expected["results"]
        assert found["statistics"] == expected["statistics"]
    assert found["inputs"][0]["manifest"]

    spark.read.parquet(str(single)).write.saveAsTable("audited")
    from_table = bias_ledger.audit(None, **BINARY, engine="spark", table="audited")
    document = _document(from_table)
    assert document["results"] == _document(bias_ledger.audit(single, **BINARY))["results"]
    (recorded,) = document["inputs"]
    assert (recorded["format"], recorded["name"], recorded["blake3"]) == ("table", "audited", "")
    assert any("cannot be re-identified" in line for line in document["warnings"])

    with pytest.raises(InputError, match=r"table missing_table: cannot read"):
        bias_ledger.audit(None, **BINARY, engine="spark", table="missing_table")


def test_weighted_binary_and_multiclass_give_the_arrow_engines_json(
    spark: Any, tmp_path: Path
) -> None:
    from tests.engines.test_weights_engines import BINARY as WEIGHTED
    from tests.engines.test_weights_engines import MULTICLASS, weighted_frame

    path = write(weighted_frame(13, 4_000), tmp_path / "weighted.parquet")
    for args in (WEIGHTED, MULTICLASS, {**WEIGHTED, "task": "regression"}):
        arrow = _document(bias_ledger.audit(path, **args))
        assert _document(bias_ledger.audit(path, **args, engine="spark")) == arrow
    bad = write(weighted_frame(14, 50).drop_columns(["w"]), tmp_path / "bad.csv")
    text = bad.read_text().splitlines()
    text = [text[0] + ",w"] + [f"{row},{-1 if i == 3 else 2}" for i, row in enumerate(text[1:])]
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(InputError) as refused:
        bias_ledger.audit(bad, **WEIGHTED)
    assert "has 1 bad weight(s) (-1.0) in row 4 (a 1-based data row)" in str(refused.value)
    with pytest.raises(InputError) as on_spark:  # Spark names the row of one file alike
        bias_ledger.audit(bad, **WEIGHTED, engine="spark")
    assert str(on_spark.value) == str(refused.value)


def test_score_and_regression_audits(spark: Any, tmp_path: Path) -> None:
    from tests.engines.scored import scored

    path = write(scored(13, 3_000, missing=True), tmp_path / "scored.parquet")
    options: dict[str, Any] = {
        "drop_missing": True,
        "missing_as_group": True,
        "sensitive": ["sex", "region"],
    }
    for args in (
        {"label": "label", "score": "probability", "threshold": 0.4, "thresholds": [0.2, 0.7]},
        {"label": "target", "prediction": "estimate", "task": "regression"},
    ):
        expected = _document(bias_ledger.audit(path, **args, **options))
        assert _document(bias_ledger.audit(path, **args, **options, engine="spark")) == expected


def test_every_task_streamed_by_arrow_gives_sparks_json(spark: Any, tmp_path: Path) -> None:
    from tests.engines.test_arrow_streaming import _table
    from tests.engines.test_engines_every_task import EVERY

    path = write(_table(15, 2_500), tmp_path / "every.parquet")
    every: list[dict[str, Any]] = list(EVERY)
    for args in every:
        arrow = _document(bias_ledger.audit(path, **args, sensitive=["sex", "region"]))
        found = bias_ledger.audit(path, **args, sensitive=["sex", "region"], engine="spark")
        assert _document(found) == arrow
    weighted: dict[str, Any] = {
        "label": "label",
        "score": "probability",
        "threshold": 0.5,
        "weight": "w",
    }
    # Weighted score audits too: each bin's weights are summed exactly on both engines.
    arrow = _document(bias_ledger.audit(path, **weighted, sensitive=["sex", "region"]))
    found = bias_ledger.audit(path, **weighted, sensitive=["sex", "region"], engine="spark")
    assert arrow["statistics"]["scores"]["histogram"]["weight_sums"] == "exact"
    assert _document(found) == arrow


def test_a_late_float_group_is_its_own_group_as_on_arrow(spark: Any, tmp_path: Path) -> None:
    # 1, 2 and 3 for 200,000 rows (past every sample), then 2.5: four groups on every engine.
    rows = 200_000
    path = tmp_path / "late.csv"
    path.write_text(
        "y,p,g\n"
        + "".join(f"{i % 2},{(i // 3) % 2},{1 + i % 3}\n" for i in range(rows))
        + "1,0,2.5\n" * 40
    )
    args: dict[str, Any] = {"label": "y", "prediction": "p", "sensitive": ["g"]}
    arrow = _document(bias_ledger.audit(path, **args))
    assert _document(bias_ledger.audit(path, **args, engine="spark")) == arrow
    (feature,) = arrow["results"]["features"]
    counts = {group["group"][0]: group["metrics"]["count"]["value"] for group in feature["groups"]}
    assert counts == {"1": 66667, "2": 66667, "3": 66666, "2.5": 40}
