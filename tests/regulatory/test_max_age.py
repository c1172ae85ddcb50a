"""max_age_days: the gate fails when the latest audit of the model is older; policy `standard`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bias_ledger.errors import PolicyError
from bias_ledger.policy import evaluate_policy, parse_policy
from bias_ledger.policy.model import AuditAge
from tests.regulatory.cli import Cli
from tests.regulatory.ll144_data import write_selection_csv

DECLARED = [
    "--prediction", "selected", "--data-source", "historical", "--data-description",
    "2025 applications", "--distribution-date", "2024-03-01", "--auditor", "A. Auditor",
    "--model-name", "screener",
]  # fmt: skip
POLICY = """version = 1
standard = "nyc-ll144"
[[rules]]
name = "annual-audit"
max_age_days = 365
"""


def test_max_age_days_rule_is_judged_on_the_audit_age() -> None:
    policy = parse_policy(POLICY)
    assert policy.standard == "nyc-ll144"
    old = evaluate_policy(policy, None, audit_age=AuditAge(400.0, "2025-01-01", 3))
    assert old.verdict.value == "fail"
    assert "400.0 days since 2025-01-01 (record 3), expected <= 365" in old.outcomes[0].message
    assert evaluate_policy(policy, None, audit_age=AuditAge(365.0, "x", 3)).passed
    unknown = evaluate_policy(policy, None)
    assert unknown.outcomes[0].status.value == "not_applicable"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("max_age_days = 0", "positive whole number"),
        ("max_age_days = 30\nmin = 1", "give no min, max or max_worsening"),
    ],
)
def test_bad_max_age_rules(rule: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(f"version = 1\n[[rules]]\n{rule}\n")
    with pytest.raises(PolicyError, match="standard"):
        parse_policy('version = 1\nstandard = "eu"\n[[rules]]\nmax_age_days = 1\n')


@pytest.mark.slow
def test_gate_fails_on_a_stale_audit_and_passes_after_a_new_one(tmp_path: Path) -> None:
    cli = Cli.create(tmp_path)
    data = write_selection_csv(tmp_path / "selection.csv")
    policy = tmp_path / "annual.toml"
    policy.write_text(POLICY)
    # The policy's `standard` makes this an LL144 audit without --standard.
    made = cli.json("audit", data, "--policy", policy, *DECLARED, "--audit-date", "2020-01-15",
                    code=1)  # fmt: skip
    assert made["policy"]["verdict"] == "fail" and made["record"]["index"] == 0
    trusted = ("--trusted-keys", str(cli.allowed_signers()))
    stale = cli.json("gate", "--record", "0", "--policy", policy, *trusted, "--no-record", code=1)
    assert stale["verdict"] == "fail"
    assert "since 2020-01-15 (record 0)" in stale["report"]["outcomes"][0]["message"]
    today = datetime.now(UTC).date().isoformat()
    cli.run("audit", data, "--standard", "nyc-ll144", *DECLARED, "--audit-date", today, "-q")
    fresh = cli.json("gate", "--record", "0", "--policy", policy, *trusted, "--no-record")
    assert fresh["verdict"] == "pass"
    assert "(record 1)" in fresh["report"]["outcomes"][0]["message"]
