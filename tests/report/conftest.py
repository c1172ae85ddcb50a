"""Real ledgers for the report tests, made by the real CLI: a passing and a failing audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ledger.helpers import REPO, SAMPLE, cli_env, run_cli
from tests.report.data import write_hostile_csv
from tests.report.helpers import Workspace, cli

EVERY_GROUP_POLICY = """
version = 1
name = "every-group"
[defaults]
severity = "error"
min_group_size = 30
insufficient = "warn"
[[rules]]
name = "four-fifths"
four_fifths = true
[[rules]]
name = "demographic-parity"
summary = "demographic_parity_ratio"
min = 0.8
[[rules]]
name = "false-negative-rate"
group_metric = "false_negative_rate"
max = 0.5
severity = "warn"
"""


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("report")
    env = cli_env(root, PYTHONPATH=str(REPO), HOME=str(root))
    cli((root, env), "init")
    cli((root, env), "key", "generate")
    public = (root / "config" / "bias-ledger" / "id_ed25519.pub").read_text().strip()
    trusted = root / "allowed_signers"
    trusted.write_text(f"alice {public}\n")
    lending = SAMPLE / "lending.csv"
    policy = REPO / "sample_data" / "policies" / "standard.toml"
    common = ("--label", "repaid", "--sensitive", "sex", "--model-name", "credit-model")
    cli(
        (root, env),
        "audit",
        lending,
        *common,
        "--sensitive",
        "race_ethnicity",
        "--score",
        "score",
        "--threshold",
        "0.5",
        "--model-version",
        "2",
        "--policy",
        policy,
    )
    every_group = root / "every-group.toml"
    every_group.write_text(EVERY_GROUP_POLICY, encoding="utf-8")
    done = run_cli(
        "audit",
        lending,
        *common,
        "--sensitive",
        "race_ethnicity",
        "--sensitive",
        "age_band",
        "--prediction",
        "approved_v1",
        "--model-version",
        "1",
        "--policy",
        every_group,
        env=env,
        cwd=root,
    )
    assert done.returncode == 1, done.stderr
    hostile = write_hostile_csv(root / "hostile.csv")
    done = run_cli(
        "audit",
        hostile,
        "--label",
        "label",
        "--prediction",
        "pred",
        "--sensitive",
        "group",
        "--model-name",
        "<b>m</b>",
        "--min-group-size",
        "5",
        env=env,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr
    return Workspace(root, env, trusted, passing=0, failing=1, hostile=2)


@pytest.fixture(scope="session")
def reports(workspace: Workspace) -> dict[str, Path]:
    """The HTML and Markdown reports of the passing, failing and hostile records."""
    made: dict[str, Path] = {}
    for name in ("passing", "failing", "hostile"):
        index = getattr(workspace, name)
        for suffix in ("html", "md"):
            path = workspace.root / f"{name}.{suffix}"
            cli(workspace, "report", str(index), "-o", path, "--trusted-keys", workspace.trusted)
            made[f"{name}.{suffix}"] = path
    return made
