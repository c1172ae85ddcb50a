"""The default (human-readable) output of ``audit`` for every task shows the computed numbers.

Each number is taken from the same audit's ``--json`` document and looked for on the line of
its group, formatted as the terminal formats it; the layout itself (widths, borders) is free.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from bias_ledger.results_layout import expanded
from tests.ledger.helpers import SAMPLE, cli_env

LENDING = SAMPLE / "lending.csv"


def shown(value: float | None) -> str:
    """A number as the terminal tables print it (bias_ledger.render.terminal.fmt)."""
    if value is None:
        return "n/a"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.3f}"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("terminal")
    rng = np.random.default_rng(21)
    rows = 900
    frame = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east"], rows, p=[0.5, 0.3, 0.2]),
            "actual": rng.normal(50, 10, rows).round(3),
            "kind": rng.choice(["cat", "dog", "eel"], rows),
        }
    )
    frame["estimate"] = (frame["actual"] + rng.normal(1, 4, rows)).round(3)
    frame["guess"] = np.where(rng.random(rows) < 0.7, frame["kind"], "dog")
    path = root / "tasks.csv"
    frame.to_csv(path, index=False)
    return path


def _both(tmp_path: Path, *args: str | Path) -> tuple[str, dict[str, Any]]:
    """The terminal text and the JSON document of the same audit."""
    env = cli_env(tmp_path, COLUMNS="220")
    argv = ["audit", *map(str, args), "--no-record"]
    text = CliRunner().invoke(app, argv, env=env)
    assert text.exit_code == 0, text.output
    document = CliRunner().invoke(app, [*argv, "--json"], env=env)
    assert document.exit_code == 0, document.output
    return text.stdout, expanded(json.loads(document.stdout))


def _section(text: str, title: str) -> list[str]:
    """The lines of the table titled ``title`` (up to the next table's title)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(title))
    # A long title may wrap: the table starts at its first border line.
    top = next(i for i in range(start, len(lines)) if lines[i][:1] and lines[i][0] in "┏┌╭+")
    end = next((i for i in range(top, len(lines)) if lines[i][:1].isalpha()), len(lines))
    return lines[start:end]


def _row(lines: list[str], label: str) -> str:
    found = [line for line in lines if f"│ {label} " in line]
    assert len(found) == 1, (label, lines)
    return found[0]


def test_binary_output(tmp_path: Path) -> None:
    args: list[str | Path] = [LENDING, "--label", "repaid", "--prediction", "approved_v1"]
    text, document = _both(tmp_path, *args, "--sensitive", "race_ethnicity")
    feature = document["results"]["features"][0]
    table = _section(text, "Per group: race_ethnicity")
    for group in feature["groups"]:
        name = group["group"][0]
        row = _row(table, name + (" (ref)" if [name] == feature["reference"] else ""))
        counts = sum(group["counts"].values())
        assert f" {counts:,} " in row
        for metric in ("base_rate", "selection_rate", "true_positive_rate", "accuracy_score"):
            assert f" {shown(group['metrics'][metric]['value'])} " in row, (name, metric)
    impact = _section(text, "Impact ratios (four-fifths rule): race_ethnicity")
    assert feature["impact_ratio_denominator"] == ["White"]
    for item in feature["impact_ratios"]:
        name = item["group"][0]
        row = _row(impact, name + (" (denominator)" if name == "White" else ""))
        assert f" {shown(item['impact_ratio']['value'])} " in row
        assert ("FAIL" in row) is bool(item["below_four_fifths"])
    summaries = _section(text, "Summaries")
    ratio = feature["summaries"]["demographic_parity_ratio"]["value"]
    assert f" {shown(ratio)} " in _row(summaries, "race_ethnicity")


def test_score_output(tmp_path: Path) -> None:
    args: list[str | Path] = [
        LENDING,
        "--label",
        "repaid",
        "--score",
        "score",
        "--threshold",
        "0.5",
    ]
    text, document = _both(tmp_path, *args, "--sensitive", "sex")
    scores = document["statistics"]["scores"]["features"][0]
    table = _section(text, "Scores: sex")
    for group in scores["groups"]:
        row = _row(table, group["group"][0])
        assert f" {group['count']:,} " in row and f" {group['positives']:,} " in row
        assert f" {shown(group['roc_auc']['value'])} " in row
        assert f" {shown(group['expected_calibration_error']['value'])} " in row
    per_group = document["results"]["features"][0]["groups"]
    rows = _section(text, "Per group: sex")
    female = next(g for g in per_group if g["group"] == ["female"])
    assert f" {shown(female['metrics']['selection_rate']['value'])} " in _row(rows, "female")


def test_regression_output(tmp_path: Path, data: Path) -> None:
    args: list[str | Path] = [
        data,
        "--task",
        "regression",
        "--label",
        "actual",
        "--prediction",
        "estimate",
    ]
    text, document = _both(tmp_path, *args, "--sensitive", "region")
    feature = document["results"]["features"][0]
    table = _section(text, "Per group: region")
    metrics = ("mean_absolute_error", "root_mean_squared_error", "mean_prediction")
    for group in feature["groups"]:
        name = group["group"][0]
        row = _row(table, name + (" (ref)" if [name] == feature["reference"] else ""))
        assert f" {group['count']:,} " in row
        for metric in (*metrics, "mean_residual"):
            assert f" {shown(group['metrics'][metric]['value'])} " in row, (name, metric)
        # The residual is prediction - label: the data was made to over-predict by about 1.
        assert group["metrics"]["mean_residual"]["value"] > 0
    disparities = _section(text, "Disparities: region")
    mae = next(d for d in feature["disparities"] if d["metric"] == "mean_absolute_error")
    row = _row(disparities, "mean_absolute_error")
    assert f" {shown(mae['between_groups_difference']['value'])} " in row


def test_multiclass_output(tmp_path: Path, data: Path) -> None:
    args: list[str | Path] = [
        data,
        "--task",
        "multiclass_classification",
        "--label",
        "kind",
        "--prediction",
    ]
    text, document = _both(tmp_path, *args, "guess", "--sensitive", "region")
    results = document["results"]
    macro = _section(text, "Macro summaries")
    for name, value in results["macro"][0]["summaries"].items():
        assert f" {shown(value['value'])} " in _row(macro, name), name
    per_class = _section(text, "Selection rate per class and group")
    for item in results["per_class"]:
        feature = item["results"]["features"][0]
        row = _row(per_class, item["label"])
        for group in feature["groups"]:
            rate = group["metrics"]["selection_rate"]["value"]
            assert f"{group['group'][0]}: {rate:.3f}" in row
        ratio = feature["summaries"]["demographic_parity_ratio"]["value"]
        assert f" {shown(ratio)} " in row
