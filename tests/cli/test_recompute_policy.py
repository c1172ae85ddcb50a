"""``verify BUNDLE --recompute --policy FILE`` re-judges recorded verdicts on the recomputed
numbers: a verdict edited before signing (a lying gate) shows, an honest one passes."""

from __future__ import annotations

from pathlib import Path

from bias_ledger.gate import audit_record_results
from bias_ledger.history import read_record
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from tests.ledger.helpers import SAMPLE, cli_env, new_signer, run_cli

POLICY = SAMPLE / "policies" / "four-fifths.toml"
DATA = SAMPLE / "lending.csv"


def test_recorded_verdicts_are_rejudged(tmp_path: Path) -> None:
    signer = new_signer(tmp_path / "key")
    ledger = tmp_path / "ledger"
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger), BIAS_LEDGER_KEY=str(signer.path))
    assert run_cli("init", env=env).returncode == 0
    audit: list[str | Path] = [
        "audit",
        DATA,
        "--label",
        "repaid",
        "--prediction",
        "approved_v1",
        "--sensitive",
        "sex",
        "--sensitive",
        "race_ethnicity",
        "--policy",
        POLICY,
        "-q",
    ]
    assert run_cli(*audit, env=env).returncode == 1  # v1 fails four-fifths: recorded as fail
    honest, _ = read_record(ledger, 0)
    assert honest["audit"]["policy"]["verdict"] == "fail"
    assert audit_record_results(honest, where="record 0").features  # a real audit record
    # A gate that lies: the same audit, its verdict turned to "pass" before it was signed.
    lying = dict(honest["audit"])
    lying["policy"] = {**honest["audit"]["policy"], "verdict": "pass"}
    append_record(ledger, RecordKind.AUDIT, lying, signer.key)
    bundle = tmp_path / "b.zip"
    assert run_cli("export", "-o", bundle, "0", env=env).returncode == 0
    check: list[str | Path] = [
        "verify",
        bundle,
        "--trusted-key",
        signer.fingerprint,
        "--recompute",
        "--data",
        DATA,
        "--policy",
        POLICY,
    ]
    done = run_cli(*check, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert run_cli("export", "-o", tmp_path / "lie.zip", "1", env=env).returncode == 0
    check[1] = tmp_path / "lie.zip"
    lied = run_cli(*check, env=env)
    assert lied.returncode == 3
    assert "$.audit.policy.verdict: recorded 'pass', recomputed 'fail'" in lied.stderr
    other_policy = SAMPLE / "policies" / "standard.toml"
    check[-1] = other_policy
    # Another policy judged nothing in this bundle: the records are recomputed, their
    # verdicts are not re-judged, and the output says which and why (issue 9 item 6).
    wrong = run_cli(*check, env=env)
    assert wrong.returncode == 0, wrong.stdout + wrong.stderr
    assert "record 1: verdict not re-judged: judged by policy 'four-fifths' (blake3 " in " ".join(
        wrong.stderr.split()
    )
    assert "not by the given 'standard'" in " ".join(wrong.stderr.split())
