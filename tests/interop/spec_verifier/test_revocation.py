"""Section 4's key_revocation, without the circular case of spec_findings F9: two keys trusted
from outside, one revokes the other after record 1, so record 2 is invalid."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from .bundle2 import verify_bundle
from .conftest import SAMPLE, allowed_signers, cli_env, run_cli_batch, ssh_key
from .log2 import verify_log
from .sshsig import SpecError
from .trust import read_allowed_signers
from .zipcheck import read_bundle


@dataclass(frozen=True)
class Revoked:
    ledger: Path
    everything: Path  # export --all
    record2: Path  # export 2
    trusted: Path  # both keys
    codes: list[int]  # the tool's exit codes building it, then verifying the ledger and bundles


@pytest.fixture(scope="module")
def revoked(tmp_path_factory: pytest.TempPathFactory) -> Revoked:
    tmp = tmp_path_factory.mktemp("revoked")
    ledger, key_a, key_b = tmp / "ledger", ssh_key(tmp / "a"), ssh_key(tmp / "b")
    trusted = allowed_signers(tmp / "trusted", key_a, key_b)
    on = ["--ledger", str(ledger)]
    audit = ["audit", str(SAMPLE / "lending.csv"), "--label", "repaid"]
    audit += ["--prediction", "approved_v1", "--sensitive", "sex"]
    everything, record2 = tmp / "all.zip", tmp / "2.zip"
    check = ["--trusted-keys", str(trusted)]
    commands = [
        ["init", "--format", "2", "--name", "spec.example/revoked", *on],
        [*audit, "--key", str(key_a), *on],
        ["approve", "0", "--note", "b once", "--key", str(key_b), *on],
        ["approve", "0", "--note", "b twice", "--key", str(key_b), *on],
        ["key", "revoke", str(key_b.with_suffix(".pub")), "--after", "1", "--key", str(key_a), *on],
        ["export", "-o", str(everything), "--all", *on],
        ["export", "-o", str(record2), "2", *on],
        ["verify", *on, *check],
        ["verify", str(everything), *check],
        ["verify", str(record2), *check],
    ]
    codes = run_cli_batch(commands, cli_env(tmp), tmp)
    assert codes[:7] == [0] * 7, codes
    return Revoked(ledger, everything, record2, trusted, codes[7:])


def test_the_record_after_invalid_after_is_invalid_in_the_ledger(revoked: Revoked) -> None:
    result = verify_log(revoked.ledger, read_allowed_signers(revoked.trusted))
    assert list(result.invalid) == [2]
    assert "revoked" in result.invalid[2]
    assert result.checkpoint.size == 4


def test_a_bundle_holding_it_fails(revoked: Revoked) -> None:
    with pytest.raises(SpecError, match="records invalid: .*revoked"):
        verify_bundle(revoked.everything.read_bytes(), read_allowed_signers(revoked.trusted))


@pytest.mark.xfail(strict=True, reason="spec_findings F1b: export omits key_revocation records")
def test_a_bundle_of_the_revoked_record_carries_its_revocation(revoked: Revoked) -> None:
    members = read_bundle(revoked.record2.read_bytes())
    assert "entries/3" in members


@pytest.mark.xfail(strict=True, reason="spec_findings F11: revocations not applied backwards")
def test_the_tool_fails_the_bundle_holding_it(revoked: Revoked) -> None:
    assert revoked.codes[1] == 3
