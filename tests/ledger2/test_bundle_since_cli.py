"""``bias-ledger verify BUNDLE --since KEPT`` on format-2 bundles, through the one core and the
real CLI: extension with a consistency proof, rollback, fork, and a kept note of another log."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger
from tests.ledger.helpers import Signer, cli_env, new_signer, run_cli


def _ledger(path: Path, signer: Signer, records: int, *, name: str = "example.org/since") -> None:
    init_ledger(path, name=name, format_version=2)
    _append(path, signer, records)


def _append(path: Path, signer: Signer, records: int) -> None:
    for number in range(records):
        append_record(path, RecordKind.GATE, {"note": f"record {number}"}, signer.key)


def test_verify_of_a_format2_bundle_since_a_kept_checkpoint(tmp_path: Path) -> None:
    signer = new_signer(tmp_path / "key")
    ledger = tmp_path / "ledger"
    _ledger(ledger, signer, 3)
    kept = tmp_path / "kept-3"
    shutil.copyfile(ledger / "checkpoint", kept)
    forked = tmp_path / "forked"
    shutil.copytree(ledger, forked)
    _append(ledger, signer, 2)
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger), BIAS_LEDGER_KEY=str(signer.path))
    allowed = signer.allowed_signers(tmp_path / "allowed")
    proven, plain = tmp_path / "proven.zip", tmp_path / "plain.zip"
    done = run_cli("export", "--all", "--consistent-with", kept, "-o", proven, env=env)
    assert done.returncode == 0, done.stderr
    assert run_cli("export", "--all", "-o", plain, env=env).returncode == 0

    def verify(bundle: Path, since: Path) -> tuple[int, dict[str, object], str]:
        args = ("verify", bundle, "--trusted-keys", allowed, "--since", since, "--json")
        done = run_cli(*args, env=env)
        return done.returncode, json.loads(done.stdout), done.stderr

    code, report, _ = verify(proven, kept)
    assert code == 0 and report["valid"] is True
    checks = {c["what"]: c for c in report["steps"]}  # type: ignore[attr-defined]
    assert "extends the checkpoint kept in" in checks["since"]["detail"]
    code, report, _ = verify(plain, kept)
    assert code == 3 and "fork: no consistency proof" in json.dumps(report)
    code, report, _ = verify(proven, ledger / "checkpoint")  # the ledger's own, size 5
    assert code == 0, report
    _append(ledger, signer, 1)
    code, report, _ = verify(proven, ledger / "checkpoint")
    assert code == 3 and "rollback" in json.dumps(report)
    # The same key rewrites history from size 3 on: the kept size-5 checkpoint of the fork
    # has another root than the bundle's, at the same size.
    _append(forked, signer, 2)
    code, report, _ = verify(proven, forked / "checkpoint")
    assert code == 3 and "fork" in json.dumps(report)
    other = tmp_path / "other"
    _ledger(other, signer, 1, name="example.org/other")
    code, report, _ = verify(proven, other / "checkpoint")
    assert code == 3 and "not the same ledger" in json.dumps(report)
