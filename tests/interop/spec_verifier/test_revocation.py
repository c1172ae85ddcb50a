"""Section 4's key_revocation, without the circular case of spec_findings F9: two keys trusted
from outside, one revokes the other after record 1, so record 2 is invalid."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from .bundle2 import verify_bundle
from .bundle3 import read_members, verify_bundle3
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
    everything3: Path  # the same two as bundles of format 3 (tar)
    record2_3: Path
    trusted: Path  # both keys
    codes: list[int]  # the tool's exit codes building it, then verifying the ledger and bundles
    # (the ledger, all.zip, 2.zip, all.tar, 2.tar)


@pytest.fixture(scope="module")
def revoked(tmp_path_factory: pytest.TempPathFactory) -> Revoked:
    tmp = tmp_path_factory.mktemp("revoked")
    ledger, key_a, key_b = tmp / "ledger", ssh_key(tmp / "a"), ssh_key(tmp / "b")
    trusted = allowed_signers(tmp / "trusted", key_a, key_b)
    on = ["--ledger", str(ledger)]
    audit = ["audit", str(SAMPLE / "lending.csv"), "--label", "repaid"]
    audit += ["--prediction", "approved_v1", "--sensitive", "sex"]
    everything, record2 = tmp / "all.zip", tmp / "2.zip"
    everything3, record2_3 = tmp / "all.tar", tmp / "2.tar"
    check = ["--trusted-keys", str(trusted)]
    commands = [
        ["init", "--format", "2", "--name", "spec.example/revoked", *on],
        [*audit, "--key", str(key_a), *on],
        ["approve", "0", "--note", "b once", "--key", str(key_b), *on],
        ["approve", "0", "--note", "b twice", "--key", str(key_b), *on],
        ["key", "revoke", str(key_b.with_suffix(".pub")), "--after", "1", "--key", str(key_a), *on],
        ["export", "-o", str(everything), "--all", *on],
        ["export", "-o", str(record2), "2", *on],
        ["export", "-o", str(everything3), "--all", *on],
        ["export", "-o", str(record2_3), "2", *on],
        ["verify", *on, *check],
        ["verify", str(everything), *check],
        ["verify", str(record2), *check],
        ["verify", str(everything3), *check],
        ["verify", str(record2_3), *check],
    ]
    codes = run_cli_batch(commands, cli_env(tmp), tmp)
    assert codes[:9] == [0] * 9, codes
    return Revoked(ledger, everything, record2, everything3, record2_3, trusted, codes[9:])


def test_the_record_after_invalid_after_is_invalid_in_the_ledger(revoked: Revoked) -> None:
    result = verify_log(revoked.ledger, read_allowed_signers(revoked.trusted))
    assert list(result.invalid) == [2]
    assert "revoked" in result.invalid[2]
    assert result.checkpoint.size == 4


def test_a_bundle_holding_it_fails(revoked: Revoked) -> None:
    with pytest.raises(SpecError, match="records invalid: .*revoked"):
        verify_bundle(revoked.everything.read_bytes(), read_allowed_signers(revoked.trusted))


def test_a_bundle_of_the_revoked_record_carries_its_revocation(revoked: Revoked) -> None:
    members = read_bundle(revoked.record2.read_bytes())
    assert "entries/3" in members


def test_the_tool_fails_the_bundle_holding_it(revoked: Revoked) -> None:
    assert revoked.codes[1] == 3


def test_a_format3_bundle_holding_it_fails_for_both(revoked: Revoked) -> None:
    trusted = read_allowed_signers(revoked.trusted)
    with pytest.raises(SpecError, match="revoked"):
        verify_bundle3(revoked.everything3.read_bytes(), trusted)
    assert "entries/3" in dict(read_members(revoked.record2_3.read_bytes()))
    assert revoked.codes[3] == 3
    assert revoked.codes[3:5] == revoked.codes[1:3]  # as the zips of format 2
