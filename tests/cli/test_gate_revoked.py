"""The gate never relies on what a revoked key signed: neither an approval by a revoked
approver, nor an approved audit record that its own key could no longer sign, whichever keys
the gate trusts (``--approved-by`` alone, or with ``--trusted-keys``). A revocation counts
only when a key the gate trusts signed it: one by a key trusted nowhere would let anyone who
can append to the ledger revoke the newest approval and bring an older baseline back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bias_ledger.cli.app import app
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from tests.ledger.helpers import SAMPLE, Signer, audit_payload, new_signer, write_small_csv

REGRESSION = SAMPLE / "policies" / "regression.toml"


@dataclass(frozen=True)
class World:
    root: Path
    ci: Signer
    officer: Signer
    approver: Signer

    @property
    def ledger(self) -> Path:
        return self.root / "ledger"

    def run(self, *args: str | Path, key: Signer | None = None) -> Result:
        env = {
            "HOME": str(self.root / "home"),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "BIAS_LEDGER_DIR": str(self.ledger),
            "BIAS_LEDGER_KEY": str((key or self.officer).path),
            "BIAS_LEDGER_KEY_DATA": None,
            "GITHUB_ACTIONS": None,
            "COLUMNS": "200",
        }
        return CliRunner().invoke(app, [str(a) for a in args], env=env)

    def file(self, name: str, *signers: tuple[str, Signer]) -> Path:
        path = self.root / name
        lines = "".join(f"{who} {signer.public_line}\n" for who, signer in signers)
        path.write_text(lines, encoding="ascii")
        return path

    def approvers(self, mode: str) -> Path:
        """The approver; with ``--approved-by`` alone, the officer too (the revocations it
        signs count only for keys the gate trusts)."""
        officer = (("officer", self.officer),) if mode == "approvers" else ()
        return self.file("approvers", ("approver", self.approver), *officer)

    @property
    def signers(self) -> Path:
        return self.file("signers", ("ci", self.ci), ("officer", self.officer))

    def audit(self, key: Signer) -> str:
        payload = audit_payload(write_small_csv(self.root / "data.csv"))
        return append_record(self.ledger, RecordKind.AUDIT, payload, key.key).record_hash

    def approve(self, index: int, digest: str) -> None:
        approval = {"approves": {"index": index, "record_hash": digest}, "note": ""}
        append_record(self.ledger, RecordKind.APPROVAL, approval, self.approver.key)

    def revoke(self, whom: Signer, after: int, *, by: Signer | None = None) -> None:
        signer = by or self.officer
        done = self.run("key", "revoke", whom.fingerprint, "--after", str(after), key=signer)
        assert done.exit_code == 0, done.stderr

    def gate(self, baseline: str, mode: str) -> Result:
        trust = () if mode == "approvers" else ("--trusted-keys", self.signers)
        return self.run(
            "gate",
            "--policy",
            REGRESSION,
            self.root / "data.csv",
            "--label",
            "label",
            "--prediction",
            "pred",
            "--sensitive",
            "group",
            "--baseline",
            baseline,
            "--approved-by",
            self.approvers(mode),
            *trust,
            "--no-record",
            "--json",
        )


def world(tmp_path: Path, *init: str) -> World:
    made = World(
        tmp_path,
        new_signer(tmp_path / "ci"),
        new_signer(tmp_path / "officer"),
        new_signer(tmp_path / "approver"),
    )
    assert made.run("init", *init).exit_code == 0
    return made


FORMATS = [pytest.param((), id="format-2"), pytest.param(("--format", "1"), id="format-1")]


@pytest.mark.parametrize("init", FORMATS)
@pytest.mark.parametrize("mode", ["approvers", "with-trusted-keys"])
def test_an_approval_by_a_revoked_approver_is_not_a_baseline(
    tmp_path: Path, init: tuple[str, ...], mode: str
) -> None:
    made = world(tmp_path, *init)
    first = made.audit(made.ci)  # 0
    made.approve(0, first)  # 1: approved while the approver's key was sound
    second = made.audit(made.ci)  # 2
    made.approve(2, second)  # 3: the approver's stolen key approves record 2
    made.revoke(made.approver, after=1)  # 4: the officer revokes it
    done = made.gate("latest-approved", mode)
    assert done.exit_code in (0, 1), done.stdout + done.stderr
    baseline = json.loads(done.stdout)["baseline"]
    assert (baseline["record_index"], baseline["approval_index"]) == (0, 1)
    done = made.gate("2", mode)
    assert done.exit_code == 3, done.stdout + done.stderr
    assert "no approval of record 2" in done.stderr


@pytest.mark.parametrize("init", FORMATS)
@pytest.mark.parametrize("mode", ["approvers", "with-trusted-keys"])
def test_an_approved_record_its_key_could_no_longer_sign_is_not_a_baseline(
    tmp_path: Path, init: tuple[str, ...], mode: str
) -> None:
    made = world(tmp_path, *init)
    made.audit(made.ci)  # 0
    stolen = made.audit(made.ci)  # 1: by the thief of the CI key
    made.approve(1, stolen)  # 2: the approver, fooled, approves it
    made.revoke(made.ci, after=0)  # 3: the officer revokes the CI key after record 0
    for baseline in ("latest-approved", "1"):
        done = made.gate(baseline, mode)
        assert done.exit_code == 3, done.stdout + done.stderr
        line = done.stderr.strip().splitlines()[-1]
        assert "record 1 is invalid (" in line and "which record 3 revoked" in line, line
        assert "never a baseline" in line


@pytest.mark.parametrize("init", FORMATS)
def test_a_revocation_by_a_key_trusted_nowhere_counts_for_nothing(
    tmp_path: Path, init: tuple[str, ...]
) -> None:
    """Anyone who can append can sign a revocation with a key of their own: revoking the
    approver after approval 1 would make the gate fall back to the older baseline (record 0),
    and revoking the CI key would make the approved record unusable."""
    made = world(tmp_path, *init)
    stranger = new_signer(tmp_path / "stranger")
    first = made.audit(made.ci)  # 0
    made.approve(0, first)  # 1
    second = made.audit(made.ci)  # 2
    made.approve(2, second)  # 3
    made.revoke(made.approver, after=1, by=stranger)  # 4
    made.revoke(made.ci, after=0, by=stranger)  # 5
    done = made.gate("latest-approved", "approvers")
    assert done.exit_code in (0, 1), done.stdout + done.stderr
    baseline = json.loads(done.stdout)["baseline"]
    assert (baseline["record_index"], baseline["approval_index"]) == (2, 3)
    # With --trusted-keys, every record must be signed by a trusted key: the stranger's fail.
    done = made.gate("latest-approved", "with-trusted-keys")
    assert done.exit_code == 3 and stranger.fingerprint in done.stderr, done.stderr
