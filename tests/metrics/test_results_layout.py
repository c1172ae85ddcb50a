"""Results schemas 3 and 4 lose nothing: every kind of audit expands back to its schema-2
layout; a value held twice, or a schema newer than this version, is refused."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import bias_ledger
from bias_ledger.errors import LedgerError, VerificationError
from bias_ledger.ledger import canonical
from bias_ledger.results_layout import (
    RESULTS_SCHEMA_VERSION,
    LayoutError,
    compacted,
    expanded,
)

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
def test_the_compact_schemas_expand_to_the_self_describing_document(
    frame: pd.DataFrame, case: str
) -> None:
    result = bias_ledger.audit(frame, **{"label": "repaid", **CASES[case]})
    document = _json(result.document())
    written = _json(result.to_json())
    assert written["schema_version"] == RESULTS_SCHEMA_VERSION == 4
    assert document["schema_version"] == 2
    assert "task" not in written["results"]
    assert len(canonical.encode(written)) < len(canonical.encode(document))
    assert _json(expanded(written)) == {**document, "schema_version": 4}
    three = _json(compacted(document, 3))
    assert three["parameters"] == document["parameters"]
    assert _json(expanded(three)) == {**document, "schema_version": 3}
    # Schema 4: the interval options are held by statistics.intervals when it is an object.
    intervals = (document["statistics"] or {}).get("intervals")
    held = {"ci_level", "bootstrap", "seed"} & set(written["parameters"])
    assert held == (set() if intervals else {"ci_level", "bootstrap", "seed"}), held


def test_schema_4_derives_the_interval_options_from_the_statistics(frame: pd.DataFrame) -> None:
    result = bias_ledger.audit(
        frame, label="repaid", prediction="approved_v1", sensitive="sex", bootstrap=30, seed=3
    )
    written = result.to_json()
    assert written["statistics"]["intervals"]["resamples"] == 30
    assert written["statistics"]["intervals"]["seed"] == 3
    read = expanded(written)["parameters"]
    assert (read["ci_level"], read["bootstrap"], read["seed"]) == (0.95, 30, 3)
    assert list(read) == sorted(read)  # as a stored record lists them
    wilson = bias_ledger.audit(frame, label="repaid", prediction="approved_v1", sensitive="sex")
    read = expanded(wilson.to_json())["parameters"]
    assert (read["ci_level"], read["bootstrap"], read["seed"]) == (0.95, 0, None)


def test_schema_4_refuses_a_parameter_held_twice_or_not_derivable(frame: pd.DataFrame) -> None:
    result = bias_ledger.audit(
        frame, label="repaid", prediction="approved_v1", sensitive="sex", bootstrap=30, seed=3
    )
    odd = result.document()
    odd["parameters"]["seed"] = 4
    with pytest.raises(
        LayoutError, match=r"parameters \(derived from statistics.intervals\): seed 4"
    ):
        compacted(odd)
    twice = result.to_json()
    twice["parameters"]["ci_level"] = 0.9
    with pytest.raises(VerificationError, match=r"parameters.ci_level is held twice, as 0.9 an"):
        expanded(twice)
    again = expanded(result.to_json())
    assert expanded(again) == again  # reading the full view again changes nothing


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
    with pytest.raises(VerificationError, match="results schema 4: cannot derive"):
        expanded(broken)


@pytest.mark.parametrize("version", [5, 99, "4", 0, True])
def test_a_schema_this_version_does_not_know_is_refused_not_misread(
    frame: pd.DataFrame, version: object
) -> None:
    result = bias_ledger.audit(frame, label="repaid", prediction="approved_v1", sensitive="sex")
    newer = {**result.to_json(), "schema_version": version}
    with pytest.raises(LedgerError, match=r"record 7: audit results schema_version") as caught:
        expanded(newer, where="record 7")
    wanted = "newer than this bias-ledger reads (1 to 4)" if version in (5, 99) else "expected"
    assert wanted in caught.value.message
