"""Weighted score audits (``--score`` with ``--weight``): ROC AUC equals scikit-learn's
``roc_auc_score(sample_weight=...)`` within the stated bound (float rounding when the scores
fit in the bins), calibration and the threshold sweep are weighted means and rates, counts
count rows; every engine gives the same bits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score

import bias_ledger
from bias_ledger.errors import InputError

ROUNDING = 1e-12


def _data(tmp_path: Path, seed: int, rows: int, decimals: int | None) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    label = rng.random(rows) < 0.3 + 0.2 * rng.random()
    score = np.clip(rng.normal(0.35 + 0.25 * label, 0.2), 0, 1)
    if decimals is not None:
        score = np.round(score, decimals)
    weight = rng.gamma(1.5, 2.0, rows) * 10.0 ** rng.integers(-2, 3, rows)
    weight[rng.random(rows) < 0.05] = 0.0
    group = rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2])
    table = {"y": label.astype(np.int64), "s": score, "w": weight, "g": group}
    path = tmp_path / f"data{seed}.parquet"
    pq.write_table(pa.table(table), path)
    return {"path": path, **table}


def _audit(data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    result = bias_ledger.audit(
        data["path"],
        label="y",
        score="s",
        threshold=0.5,
        weight="w",
        sensitive="g",
        ci=None,
        thresholds=[0.25, 0.5, 0.75],
        **extra,
    )
    document: dict[str, Any] = result.to_json()["statistics"]
    return document


@pytest.mark.parametrize(
    ("seed", "rows", "decimals"), [(1, 4_000, 2), (2, 9_000, 4), (3, 80_000, None)]
)
def test_weighted_scores_equal_scikit_learns(
    tmp_path: Path, seed: int, rows: int, decimals: int | None
) -> None:
    data = _data(tmp_path, seed, rows, decimals)
    statistics = _audit(data)
    scores = statistics["scores"]
    assert "sample_weight" in statistics["weights"]["scores"]
    histogram = scores["histogram"]
    assert histogram["roc_auc_exact"] is (decimals is not None)
    label, score, weight = data["y"], data["s"], data["w"]
    members = [(np.ones(rows, dtype=bool), scores["overall"])]
    members += [(data["g"] == item["group"][0], item) for item in scores["features"][0]["groups"]]
    for mask, found in members:
        y, s, w = label[mask], score[mask], weight[mask]
        expected = roc_auc_score(y, s, sample_weight=w)
        bound = found["roc_auc_error_bound"] + ROUNDING
        assert abs(found["roc_auc"]["value"] - expected) <= bound
        assert found["count"] == mask.sum() and found["positives"] == y.sum()
        for cut, rate in zip([0.25, 0.5, 0.75], found["sweep"]["selection_rate"], strict=True):
            assert rate["value"] == pytest.approx(w[s >= cut].sum() / w.sum(), rel=ROUNDING)
        edges = np.linspace(0, 1, 11)
        for b, cell in enumerate(found["calibration"]):
            inside = (s > edges[b]) & (s <= edges[b + 1]) if b else (s <= edges[1])
            assert cell["count"] == inside.sum()
            if w[inside].sum() > 0:
                mean = (s[inside] * w[inside]).sum() / w[inside].sum()
                assert cell["mean_predicted"]["value"] == pytest.approx(mean, rel=ROUNDING)
                observed = w[inside & (y == 1)].sum() / w[inside].sum()
                assert cell["observed_rate"]["value"] == pytest.approx(observed, rel=ROUNDING)
    if decimals is None:
        assert histogram["fine_bins"].startswith("equal width")
        assert 0 < histogram["roc_auc_max_error_bound"] < 1e-3


@pytest.mark.parametrize("decimals", [2, None])
def test_duckdb_gives_arrows_weighted_scores_bit_for_bit(
    tmp_path: Path, decimals: int | None
) -> None:
    data = _data(tmp_path, 4, 3_000, decimals)
    arrow, duckdb = _audit(data), _audit(data, engine="duckdb")
    assert arrow["scores"]["histogram"]["weight_sums"] == "exact"
    assert arrow == duckdb


def test_the_float_method_stays_on_arrow_in_one_line(tmp_path: Path) -> None:
    import dataclasses

    from bias_ledger._audit import run_audit
    from bias_ledger._request import request_from_options

    data = _data(tmp_path, 4, 500, 2)
    options = {"data": data["path"], "label": "y", "score": "s", "threshold": 0.5}
    options |= {"weight": "w", "sensitive": ["g"], "engine": "duckdb"}
    request = dataclasses.replace(request_from_options(options), exact_weights=False)
    with pytest.raises(InputError, match="arrow engine alone") as caught:
        run_audit(request)
    assert "\n" not in str(caught.value)
