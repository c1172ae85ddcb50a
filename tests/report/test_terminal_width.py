"""The real terminal output of every task at 80 and 200 columns (COLUMNS): nothing is cut, every
number shown at 200 columns is shown at 80, lines fit, --wide shows all, control characters
from data are escaped, and the findings table says each thing once."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.cells import cell_len

from tests.ledger.helpers import REPO, cli_env, run_cli

ESCAPE_NAME = "\x1b[2J\x1b[31mred\u202e"
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*\.\d+|(?<![\w.])\d{1,3}(?:,\d{3})+")
TASKS = {
    "binary": ["--label", "label", "--prediction", "pred"],
    "scores": ["--label", "label", "--score", "score", "--threshold", "0.5"],
    "regression": ["--task", "regression", "--label", "actual", "--prediction", "estimate"],
    "multiclass": [
        "--task", "multiclass_classification", "--label", "kind", "--prediction", "guess",
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(5)
    rows = 1200
    frame = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east", ESCAPE_NAME], rows, p=[.4, .3, .2, .1]),
            "tier": rng.choice(["gold member tier", "silver"], rows),
            "actual": rng.normal(50, 10, rows).round(3),
            "kind": rng.choice(["cat", "dog", "eel"], rows),
            "label": rng.integers(0, 2, rows),
        }
    )  # fmt: skip
    frame["estimate"] = (frame["actual"] + rng.normal(0, 4, rows)).round(3)
    frame["guess"] = np.where(rng.random(rows) < 0.7, frame["kind"], "cat")
    frame["score"] = np.clip(0.35 * frame["label"] + rng.random(rows) * 0.65, 0, 1).round(4)
    frame["pred"] = (frame["score"] >= 0.5).astype(int)
    path = tmp_path_factory.mktemp("width") / "tasks.csv"
    frame.to_csv(path, index=False)
    return path


def _run(data: Path, columns: int, *args: str | Path) -> str:
    env = cli_env(data.parent, PYTHONPATH=str(REPO), COLUMNS=str(columns))
    done = run_cli(*args, env=env, cwd=data.parent)
    assert done.returncode in (0, 1), done.stderr
    assert "\x1b" not in done.stdout + done.stderr and "\u202e" not in done.stdout
    return done.stdout


def _audit(data: Path, task: str, columns: int, *extra: str) -> str:
    return _run(data, columns, "audit", data, *TASKS[task], "--sensitive", "region",
                "--sensitive", "tier", "--no-record", *extra)  # fmt: skip


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_number_fits_at_80_columns(data: Path, task: str) -> None:
    narrow, wide = _audit(data, task, 80), _audit(data, task, 200)
    for output, columns in ((narrow, 80), (wide, 200)):
        assert "…" not in output
        too_long = [line for line in output.splitlines() if cell_len(line) > columns]
        assert not too_long, too_long[:3]
    # The same numbers, none cut: 80 columns continues tables instead of squeezing them.
    assert sorted(NUMBER.findall(narrow)) == sorted(NUMBER.findall(wide))
    assert len(NUMBER.findall(narrow)) > 20
    assert "(continued)" in narrow
    # A group name that would clear the screen is shown, escaped, not obeyed.
    assert "\\x1b[2J\\x1b[31mred\\u202e" in wide and "\\x1b[2J" in narrow


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_wide_shows_one_table_per_title(data: Path, task: str) -> None:
    output = _audit(data, task, 80, "--wide")
    assert "(continued)" not in output and "…" not in output
    assert max(cell_len(line) for line in output.splitlines()) > 80
    assert sorted(NUMBER.findall(output)) == sorted(NUMBER.findall(_audit(data, task, 200)))


POLICY = """
version = 1
name = "strict"
[[rules]]
name = "fnr"
group_metric = "false_negative_rate"
max = 0.01
[[rules]]
name = "parity"
summary = "demographic_parity_ratio"
min = 0.999
"""


def test_findings_table_says_each_thing_once(data: Path) -> None:
    policy = data.parent / "strict.toml"
    policy.write_text(POLICY, encoding="utf-8")
    args: tuple[str | Path, ...] = (
        "gate", "--policy", policy, "--data", data, *TASKS["binary"], "--sensitive", "region",
        "--sensitive", "tier", "--no-record",
    )  # fmt: skip
    output = _run(data, 200, *args)
    assert "Policy findings" in output and "fail" in output
    # The message (rule: scope: quantity = value, expected bound) is not repeated per row.
    assert "expected <=" not in output and "fnr: region" not in output
    rows = [line for line in output.splitlines() if line.startswith("│ fnr")]
    assert rows and all(line.count("false_negative_rate") == 1 for line in rows)
    # 12 findings: all shown; with more than 20 the list is bounded unless --wide.
    many = _run(data, 200, *args[:-1], "--sensitive", "kind", "--no-record")
    if "more rows" in many:
        assert re.search(r"and \d+ more rows", many)
        assert "more rows" not in _run(data, 200, *args[:-1], "--sensitive", "kind",
                                       "--no-record", "--wide")  # fmt: skip


def test_recorded_names_and_errors_do_not_reach_the_terminal_raw(data: Path) -> None:
    env = cli_env(data.parent, PYTHONPATH=str(REPO), COLUMNS="100")
    for args in (("init",), ("key", "generate")):
        assert run_cli(*args, env=env, cwd=data.parent).returncode == 0
    model = "\x1b]0;pwned\x07\x1b[2Jmodel\u202e"
    recorded = _run(data, 100, "audit", data, *TASKS["binary"], "--sensitive", "region",
                    "--model-name", model)  # fmt: skip
    assert "\\x1b]0;pwned\\x07\\x1b[2Jmodel\\u202e" in recorded
    shows: list[tuple[str, ...]] = [
        ("log",),
        ("show", "0"),
        ("show", "0", "--json"),
        ("log", "--json"),
    ]
    for shown_args in shows:
        shown = _run(data, 100, *shown_args)
        assert "pwned" in shown  # shown, escaped (_run checks that no raw ESC or U+202E is left)
    refused = run_cli("audit", data, *TASKS["binary"], "--sensitive", "region", "--reference",
                      f"region={model}", "--no-record", env=env, cwd=data.parent)  # fmt: skip
    assert refused.returncode == 2 and "\x1b" not in refused.stderr
