"""The committed sample data is reproducible, and its injected disparity is as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bias_ledger.io.digest import digest_file
from bias_ledger.io.load import load_audit_data
from bias_ledger.io.model import ColumnMapping

ROOT = Path(__file__).resolve().parents[2] / "sample_data"
BYTE_FOR_BYTE = [
    "lending.csv",
    "applicants.csv",
    "predictions.csv",
    "bias-ledger.toml",
    "README.md",
]


def test_generator_is_deterministic(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in BYTE_FOR_BYTE:
        assert digest_file(tmp_path / name) == digest_file(ROOT / name), name
    # Parquet bytes embed the writer's version, so compare the content.
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "lending.parquet").equals(
        pq.read_table(ROOT / "lending.parquet")
    )


def _impact_ratios(prediction: str, feature: str) -> dict[str, float]:
    from fairlearn.metrics import MetricFrame, selection_rate

    data = load_audit_data(
        ROOT / "lending.parquet",
        mapping=ColumnMapping(label="repaid", prediction=prediction, sensitive=(feature,)),
    )
    (column,) = data.sensitive
    groups = np.array(column.categories)[column.codes]
    frame = MetricFrame(
        metrics=selection_rate,
        y_true=data.y_true,
        y_pred=data.y_pred,
        sensitive_features=groups,
    )
    rates = frame.by_group
    return {str(group): float(rate / rates.max()) for group, rate in rates.items()}


@pytest.mark.parametrize("feature", ["race_ethnicity", "sex"])
def test_version_one_fails_and_version_two_passes_four_fifths(feature: str) -> None:
    v1 = _impact_ratios("approved_v1", feature)
    v2 = _impact_ratios("approved_v2", feature)
    failing_v1 = sorted(group for group, ratio in v1.items() if ratio < 0.8)
    assert failing_v1 == (["Black"] if feature == "race_ethnicity" else [])
    assert all(ratio >= 0.8 for ratio in v2.values()), v2
    if feature == "race_ethnicity":
        assert v2["Black"] > v1["Black"]


def test_readme_reports_the_measured_ratios() -> None:
    readme = (ROOT / "README.md").read_text()
    for prediction in ("approved_v1", "approved_v2"):
        for group, ratio in _impact_ratios(prediction, "race_ethnicity").items():
            assert f"{ratio:.3f}" in readme, (prediction, group)
