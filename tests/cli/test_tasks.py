"""Regression, multiclass, intervals and score metrics through the real CLI, recorded, shown,
exported and recomputed; numbers checked against fairlearn and scikit-learn."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame
from sklearn.metrics import mean_absolute_error, recall_score, roc_auc_score

from bias_ledger.results_layout import expanded
from tests.ledger.helpers import cli_env, run_cli

REGRESSION = [
    "--task",
    "regression",
    "--label",
    "actual",
    "--prediction",
    "estimate",
    "--sensitive",
    "region",
]
MULTICLASS = "--task multiclass_classification --label kind --prediction guess --sensitive tier"
MULTICLASS_ARGS = MULTICLASS.split()
SCORES: tuple[str, ...] = (
    "--label",
    "label",
    "--prediction",
    "pred",
    "--score",
    "score",
    "--sensitive",
    "region",
    "--bootstrap",
    "200",
    "--seed",
    "5",
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    root = tmp_path_factory.mktemp("tasks")
    env = cli_env(root, BIAS_LEDGER_DIR=str(root / "ledger"))
    rng = np.random.default_rng(11)
    rows = 1500
    frame = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east"], rows, p=[0.5, 0.3, 0.2]),
            "tier": rng.choice(["a", "b"], rows),
            "actual": rng.normal(50, 10, rows).round(3),
            "kind": rng.choice(["cat", "dog", "eel"], rows),
            "label": rng.integers(0, 2, rows),
        }
    )
    frame["estimate"] = (frame["actual"] + rng.normal(0, 4, rows)).round(3)
    noise = rng.choice(["cat", "dog", "eel"], rows)
    frame["guess"] = np.where(rng.random(rows) < 0.7, frame["kind"], noise)
    frame["score"] = np.clip(0.35 * frame["label"] + rng.random(rows) * 0.65, 0, 1).round(4)
    frame["pred"] = (frame["score"] >= 0.5).astype(int)
    data = root / "tasks.csv"
    frame.to_csv(data, index=False)
    for args in (["init"], ["key", "generate"]):
        assert run_cli(*args, env=env, cwd=root).returncode == 0
    return root, env, data


def _json(workspace: tuple[Path, dict[str, str], Path], *args: str | Path) -> Any:
    root, env, _ = workspace
    done = run_cli(*args, "--json", env=env, cwd=root)
    assert done.returncode == 0, done.stderr
    value = json.loads(done.stdout)
    audit = isinstance(value, dict) and "parameters" in value
    return expanded(value) if audit else value  # any results schema, in one layout


def _metric(feature: dict[str, Any], group: str, name: str) -> float:
    match = next(g for g in feature["groups"] if g["group"] == [group])
    value: float = match["metrics"][name]["value"]
    return value


def test_regression_audit_equals_fairlearn(workspace: tuple[Path, dict[str, str], Path]) -> None:
    _, _, data = workspace
    document = _json(workspace, "audit", data, *REGRESSION)
    frame = pd.read_csv(data)
    reference = MetricFrame(
        metrics=mean_absolute_error,
        y_true=frame["actual"],
        y_pred=frame["estimate"],
        sensitive_features=frame["region"],
    )
    feature = document["results"]["features"][0]
    for group, expected in reference.by_group.items():
        assert _metric(feature, str(group), "mean_absolute_error") == pytest.approx(
            expected, abs=1e-12
        )
    assert document["parameters"]["task"] == "regression"
    # The record it names holds this very audit.
    recorded = _json(workspace, "show", str(document["record"]["index"]))["record"]
    assert recorded["kind"] == "audit"
    assert recorded["audit"]["parameters"]["task"] == "regression"
    assert expanded(recorded["audit"])["results"] == document["results"]


def test_multiclass_audit_equals_sklearn(workspace: tuple[Path, dict[str, str], Path]) -> None:
    _, _, data = workspace
    document = _json(workspace, "audit", data, *MULTICLASS_ARGS)
    frame = pd.read_csv(data)
    assert document["results"]["classes"] == ["cat", "dog", "eel"]
    for item in document["results"]["per_class"]:
        feature = item["results"]["features"][0]
        for tier in ("a", "b"):
            rows = frame[frame["tier"] == tier]
            expected = recall_score(
                rows["kind"], rows["guess"], labels=[item["label"]], average=None
            )[0]
            assert _metric(feature, tier, "true_positive_rate") == pytest.approx(expected, 1e-12)


def test_score_metrics_and_intervals(workspace: tuple[Path, dict[str, str], Path]) -> None:
    _, _, data = workspace
    document = _json(workspace, "audit", data, *SCORES)
    frame = pd.read_csv(data)
    scores = document["statistics"]["scores"]["features"][0]
    for group in scores["groups"]:
        rows = frame[frame["region"] == group["group"][0]]
        assert group["roc_auc"]["value"] == pytest.approx(
            roc_auc_score(rows["label"], rows["score"]), abs=1e-12
        )
    assert document["statistics"]["intervals"]["method"].startswith("percentile bootstrap")
    assert document["parameters"]["seed"] == 5
    summary = document["results"]["features"][0]["summaries"]["demographic_parity_difference"]
    low, high = summary["interval"]["low"], summary["interval"]["high"]
    assert low <= summary["value"] <= high
    tests = document["statistics"]["significance"][0]["tests"]
    assert all(0 <= test["p_value"]["value"] <= 1 for test in tests)


def test_log_show_export_and_recompute_every_task(
    workspace: tuple[Path, dict[str, str], Path],
) -> None:
    root, env, data = workspace
    # The test makes its own records: under pytest-xdist the tests above may run in another
    # worker, with another module fixture and ledger.
    for args in (REGRESSION, MULTICLASS_ARGS, SCORES):
        done = run_cli("audit", data, *args, env=env, cwd=root)
        assert done.returncode == 0, done.stderr
    lines = _json(workspace, "log")
    assert {line["kind"] for line in lines} == {"audit"}
    seen = set()
    for line in lines:
        shown = run_cli("show", str(line["index"]), env=env, cwd=root)
        assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
        record = _json(workspace, "show", str(line["index"]))["record"]
        task = record["audit"]["parameters"]["task"]
        seen.add(task)
        # The human-readable record names its index, its task and its data file's digest.
        assert re.search(rf"^record\s+{line['index']}\s*$", shown.stdout, flags=re.M)
        assert "param task" in shown.stdout and task in shown.stdout
        assert record["audit"]["inputs"][0]["blake3"] in shown.stdout
    assert {"regression", "multiclass_classification", "binary_classification"} == seen
    bundle = root / "all.zip"
    assert run_cli("export", "-o", bundle, "--all", env=env, cwd=root).returncode == 0
    fingerprint = _json(workspace, "key", "show")["fingerprint"]
    verified = run_cli(
        "verify",
        bundle,
        "--trusted-key",
        fingerprint,
        "--recompute",
        "--data",
        data,
        env=env,
        cwd=root,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    refused = run_cli("verify", bundle, "--trust-ledger-keys", env=env, cwd=root)
    assert refused.returncode == 2 and "does not apply to a bundle" in refused.stderr
