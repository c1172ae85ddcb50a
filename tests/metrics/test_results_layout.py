"""Results schema 3 loses nothing: every kind of audit expands back to its schema-2 layout."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import bias_ledger
from bias_ledger.errors import VerificationError
from bias_ledger.ledger import canonical
from bias_ledger.results_layout import LayoutError, compacted, expanded

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "lending.csv"
CASES: dict[str, dict[str, Any]] = {
    "one feature": {"prediction": "approved_v1", "sensitive": "sex"},
    "two features, small groups": {
        "prediction": "approved_v1",
        "sensitive": ["age_band", "race_ethnicity"],
        "min_group_size": 100,
    },
    "scores": {"score": "score", "threshold": 0.5, "sensitive": ["sex"]},
    "bootstrap": {"prediction": "approved_v1", "sensitive": ["sex"], "bootstrap": 30, "seed": 3},
    "no intervals": {"prediction": "approved_v1", "sensitive": ["sex"], "ci": None},
    "weighted": {"prediction": "approved_v1", "sensitive": ["sex"], "weight": "w", "ci": None},
    "regression": {
        "label": "income",
        "prediction": "loan_amount",
        "sensitive": ["sex"],
        "task": "regression",
        "ci": None,
    },
    "multiclass": {
        "label": "tier",
        "prediction": "tier_hat",
        "sensitive": ["sex", "race_ethnicity"],
        "task": "multiclass_classification",
        "ci": None,
    },
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    data = pd.read_csv(SAMPLE).head(3000)
    data["tier"] = np.where(data.score > 0.66, "hi", np.where(data.score > 0.33, "mid", "lo"))
    data["tier_hat"] = np.where(data.approved_v1 == 1, "hi", "lo")
    data["w"] = (data.id % 7) / 3.0
    return data


def _json(value: Any) -> Any:
    return canonical.decode(canonical.encode(value))


@pytest.mark.parametrize("case", sorted(CASES))
def test_schema_3_expands_to_the_self_describing_document(frame: pd.DataFrame, case: str) -> None:
    result = bias_ledger.audit(frame, **{"label": "repaid", **CASES[case]})
    document = _json(result.document())
    written = _json(result.to_json())
    assert written["schema_version"] == 3 and document["schema_version"] == 2
    assert "task" not in written["results"]
    assert len(canonical.encode(written)) < len(canonical.encode(document))
    assert _json(expanded(written)) == {**document, "schema_version": 3}


def test_a_writer_never_leaves_out_a_value_that_is_not_derivable(frame: pd.DataFrame) -> None:
    document = bias_ledger.audit(frame, label="repaid", prediction="approved_v1", sensitive="sex")
    full = document.document()
    odd = copy.deepcopy(full)
    odd["results"]["features"][0]["impact_ratios"][0]["sufficient"] = False
    with pytest.raises(LayoutError, match="impact ratio: sufficient"):
        compacted(odd)
    odd = copy.deepcopy(full)
    odd["results"]["features"][0]["groups"][0]["metrics"]["base_rate"]["interval"]["level"] = 0.9
    with pytest.raises(LayoutError, match="interval: level"):
        compacted(odd)


def test_older_schemas_are_read_as_they_are_and_a_malformed_one_is_refused(
    frame: pd.DataFrame,
) -> None:
    result = bias_ledger.audit(frame, label="repaid", prediction="approved_v1", sensitive="sex")
    document = result.document()
    assert expanded(document) == document
    broken = result.to_json()
    del broken["results"]["features"][0]["groups"]
    with pytest.raises(VerificationError, match="results schema 3: cannot derive"):
        expanded(broken)
