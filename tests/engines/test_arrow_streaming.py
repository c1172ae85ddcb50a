"""The streaming engine's score, regression, multiclass and weighted audits give, JSON whole,
what reading the columns whole gives, in every format and join, without reading them whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import bias_ledger
import bias_ledger._audit  # noqa: F401  (bound before load_audit_data is patched)
from bias_ledger.engines import arrow_engine
from bias_ledger.io import load
from tests.engines.data import write
from tests.engines.scored import scored
from tests.engines.test_weights_engines import weighted_frame

SENSITIVE = ["sex", "region"]
TASKS: list[dict[str, Any]] = [
    {"label": "label", "prediction": "prediction", "score": "probability"},
    {
        "label": "answer",
        "pos_label": "yes",
        "score": "logit",
        "threshold": 0.25,
        "thresholds": [-1.0, 0.0, 2.5],
    },
    {"label": "label", "score": "grade", "threshold": 0.5, "pos_label": "1"},
    {"label": "target", "prediction": "estimate", "task": "regression"},
    {"label": "klass", "prediction": "guess", "task": "multiclass_classification"},
    {"label": "label", "prediction": "prediction", "weight": "w", "ci": None},
    {"label": "target", "prediction": "estimate", "task": "regression", "weight": "w", "ci": None},
    {
        "label": "klass",
        "prediction": "guess",
        "task": "multiclass_classification",
        "weight": "w",
        "ci": None,
    },
]


def _table(seed: int, rows: int, *, missing: bool = False) -> pa.Table:
    table = scored(seed, rows, missing=missing)
    weights = weighted_frame(seed, rows).column("w")
    return table.append_column("w", weights)


def _document(result: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(result.to_json()))
    return document


def _streamed_and_whole(
    monkeypatch: pytest.MonkeyPatch, path: Path, **args: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    whole_read = load.load_audit_data
    with monkeypatch.context() as patch:
        # Streaming must not fall back on reading the columns whole.
        def refuse(*_: Any, **__: Any) -> Any:
            raise AssertionError("read whole")

        patch.setattr(load, "load_audit_data", refuse)
        streamed = _document(bias_ledger.audit(path, **args))
    with monkeypatch.context() as patch:
        patch.setattr(arrow_engine, "streams", lambda *_, **__: False)
        patch.setattr(load, "load_audit_data", whole_read)
        whole = _document(bias_ledger.audit(path, **args))
    return streamed, whole


@pytest.mark.parametrize("args", TASKS)
@pytest.mark.parametrize("suffix", [".parquet", ".csv.gz", ".jsonl"])
def test_every_task_streams_as_read_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, suffix: str, args: dict[str, Any]
) -> None:
    path = write(_table(3, 3_000), tmp_path / f"data{suffix}")
    streamed, whole = _streamed_and_whole(monkeypatch, path, **args, sensitive=SENSITIVE)
    assert streamed == whole


@pytest.mark.parametrize("args", [TASKS[0], TASKS[1], TASKS[3], TASKS[6]])
def test_missing_values_dropped_and_as_group(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: dict[str, Any]
) -> None:
    path = write(_table(4, 3_000, missing=True), tmp_path / "data.parquet")
    options = {"drop_missing": True, "missing_as_group": True, "sensitive": SENSITIVE}
    streamed, whole = _streamed_and_whole(monkeypatch, path, **args, **options)
    assert streamed == whole
    assert streamed["data"]["dropped_rows"] > 0


@pytest.mark.parametrize("join", ["id", "row-order"])
@pytest.mark.parametrize("args", [TASKS[0], TASKS[1], TASKS[3], TASKS[5]])
def test_two_files_joined(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, join: str, args: dict[str, Any]
) -> None:
    table = _table(5, 3_000)
    own = ["id", args["label"], *SENSITIVE]
    data = write(table.select(own), tmp_path / "data.csv")
    rest = [name for name in table.column_names if name not in own]
    shuffled = table.take(pa.array(range(table.num_rows - 1, -1, -1)))
    predictions = shuffled if join == "id" else table
    path = write(predictions.select(["id", *rest]), tmp_path / "predictions.parquet")
    options: dict[str, Any] = {"predictions": path, "sensitive": SENSITIVE, "join": join}
    if join == "id":
        options["id_column"] = "id"
    else:
        data = write(table.select(own[1:]), tmp_path / "data.csv")
    streamed, whole = _streamed_and_whole(monkeypatch, data, **args, **options)
    assert streamed == whole


def test_cross_check_reads_a_small_input_whole_and_refuses_a_large_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import dataclasses

    import bias_ledger._audit as audit_module
    from bias_ledger._request import request_from_options
    from bias_ledger.errors import InputError

    path = write(_table(6, 2_000), tmp_path / "data.csv")
    options = {"label": "label", "prediction": "prediction", "sensitive": SENSITIVE}
    request = request_from_options({**options, "data": path, "predictions": None})
    checked = dataclasses.replace(request, cross_check=True)
    assert _document(audit_module.run_audit(checked)) == _document(audit_module.run_audit(request))
    monkeypatch.setattr(audit_module, "CROSS_CHECK_MAX_ROWS", 1_999)
    with pytest.raises(InputError, match=r"at most 1999 rows; data.csv has 2000 \(the audit") as e:
        audit_module.run_audit(checked)
    assert "\n" not in str(e.value)
