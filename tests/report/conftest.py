"""Real ledgers for the report tests, made by the real CLI: a passing and a failing audit."""

from __future__ import annotations

import pytest

from tests.ledger.helpers import REPO, SAMPLE, cli_env, run_cli
from tests.report.data import write_hostile_csv
from tests.report.helpers import Workspace, cli


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
        policy,
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
