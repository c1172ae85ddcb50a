"""Key rotation and revocation: honest post-rotation evidence verifies, a rotated-out or revoked
key signs nothing more, a rotation cannot display one key and authorise another."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bias_ledger.cli.app import app
from bias_ledger.ledger.reader import CHECKPOINT_FILE
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from tests.ledger.helpers import (
    SAMPLE,
    Signer,
    audit_payload,
    new_signer,
    read_lines,
    record_of,
    resign_checkpoint,
    signed_line,
    write_lines,
    write_small_csv,
)

AUDIT = ["--label", "label", "--prediction", "pred", "--sensitive", "group", "-q"]
REGRESSION = SAMPLE / "policies" / "regression.toml"


@dataclass(frozen=True)
class Rotated:
    """Record 0: audit by A; record 1: rotation A -> B; record 2: audit by B."""

    root: Path
    ledger: Path
    a: Signer
    b: Signer
    data: Path
    trusted_a: Path
    """allowed_signers trusting A only (B is reached through the rotation)."""
    kept: Path
    """The checkpoint after record 0, signed by A."""

    def run(self, *args: str | Path, key: Signer | None = None) -> Result:
        env = {
            "HOME": str(self.root / "home"),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "BIAS_LEDGER_DIR": str(self.ledger),
            "BIAS_LEDGER_KEY": str((key or self.b).path),
            "BIAS_LEDGER_KEY_DATA": None,
            "GITHUB_ACTIONS": None,
            "COLUMNS": "200",
        }
        return CliRunner().invoke(app, [str(a) for a in args], env=env)


@pytest.fixture
def rotated(tmp_path: Path) -> Rotated:
    return make_rotated(tmp_path)


@pytest.fixture
def rotated1(tmp_path: Path) -> Rotated:
    """A format-1 ledger, for the tests that write its records.log behind the store's back
    (tests/ledger2/test_commands_v2.py forges the same on format 2)."""
    return make_rotated(tmp_path, "--format", "1")


def make_rotated(tmp_path: Path, *init: str) -> Rotated:
    a, b = new_signer(tmp_path / "a"), new_signer(tmp_path / "b")
    world = Rotated(
        tmp_path,
        tmp_path / "ledger",
        a,
        b,
        write_small_csv(tmp_path / "data.csv"),
        a.allowed_signers(tmp_path / "trusted_a", "auditor"),
        tmp_path / "kept",
    )
    assert world.run("init", *init).exit_code == 0
    done = world.run("audit", world.data, *AUDIT, key=a)
    assert done.exit_code == 0, done.stderr
    world.kept.write_bytes((world.ledger / CHECKPOINT_FILE).read_bytes())
    done = world.run("key", "rotate", "--new-key", b.path, key=a)
    assert done.exit_code == 0, done.stderr
    done = world.run("audit", world.data, *AUDIT, key=b)
    assert done.exit_code == 0, done.stderr
    return world


def test_records_from_before_the_rotation_export_and_verify(rotated1: Rotated) -> None:
    # Format 1: its bundles take --since a kept checkpoint through the CLI here (format-2
    # bundles' own --since is tests/ledger2/test_bundle_v2.py's).
    rotated = rotated1
    bundle = rotated.root / "old.zip"
    done = rotated.run("export", "0", "-o", bundle, "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["records"] == [0, 1]  # the rotation to B, who signed the cp
    done = rotated.run("verify", bundle, "--trusted-keys", rotated.trusted_a)
    assert done.exit_code == 0, done.stdout + done.stderr
    # With a consistency proof from the checkpoint kept before the rotation.
    proven = rotated.root / "proven.zip"
    done = rotated.run("export", "0", "-o", proven, "--consistent-with", rotated.kept)
    assert done.exit_code == 0, done.stderr
    done = rotated.run(
        "verify", proven, "--trusted-keys", rotated.trusted_a, "--since", rotated.kept
    )
    assert done.exit_code == 0, done.stdout + done.stderr
    # And as a gate baseline approved by A's lineage.
    done = rotated.run(
        "gate",
        "--policy",
        REGRESSION,
        rotated.data,
        *AUDIT[:-1],
        "--baseline",
        bundle,
        "--approved-by",
        rotated.trusted_a,
        "--no-record",
        "--json",
    )
    assert done.exit_code in (0, 1), done.stderr
    assert json.loads(done.stdout)["baseline"]["record_index"] == 0


def test_a_rotated_out_key_signs_nothing_more(rotated: Rotated) -> None:
    before = read_lines(rotated.ledger)
    attempts: list[list[str | Path]] = [
        ["audit", rotated.data, *AUDIT],
        ["key", "rotate", "--new-key", rotated.b.path],
    ]
    for args in attempts:
        done = rotated.run(*args, key=rotated.a)
        assert done.exit_code == 2, done.stderr
        assert f"key {rotated.a.fingerprint} was rotated out by record 1" in done.stderr
        assert f"sign with its successor {rotated.b.fingerprint}" in done.stderr
    assert read_lines(rotated.ledger) == before


def test_a_record_signed_after_rotation_is_flagged(rotated1: Rotated) -> None:
    """Written behind the store's back, as an old version or a thief of A's key could."""
    rotated = rotated1
    lines = read_lines(rotated.ledger)
    forged = record_of(lines[2])
    forged["signer"] = {"fingerprint": rotated.a.fingerprint, "public_key": rotated.a.public_line}
    write_lines(rotated.ledger, [*lines[:2], signed_line(forged, rotated.a.key)])
    resign_checkpoint(rotated.ledger, rotated.b.key)
    done = rotated.run("verify", "--trusted-keys", rotated.trusted_a, "--json")
    assert done.exit_code == 0, done.stdout + done.stderr
    warnings = json.loads(done.stdout)["warnings"]
    assert any("record 2: invalid, not trusted" in w and "rotated it out" in w for w in warnings)
    bundle = rotated.root / "forged.zip"
    assert rotated.run("export", "2", "-o", bundle).exit_code == 0
    done = rotated.run("verify", bundle, "--trusted-keys", rotated.trusted_a)
    assert done.exit_code == 3 and "record 2: signed by key" in done.stderr
    # A checkpoint signed by the rotated-out key over that record fails outright.
    resign_checkpoint(rotated.ledger, rotated.a.key)
    done = rotated.run("verify", "--trusted-keys", rotated.trusted_a)
    assert done.exit_code == 3 and "checkpoint" in done.stderr and "rotated it out" in done.stderr


def test_rotation_must_name_the_fingerprint_of_its_key(tmp_path: Path) -> None:
    a, b, c = (new_signer(tmp_path / name) for name in "abc")
    world = Rotated(tmp_path, tmp_path / "ledger", a, b, tmp_path, tmp_path, tmp_path)
    assert world.run("init").exit_code == 0
    payload = {"new_public_key": b.public_line, "new_fingerprint": c.fingerprint}
    append_record(world.ledger, RecordKind.KEY_ROTATION, payload, a.key)
    done = world.run("verify", "--trusted-key", a.fingerprint)
    assert done.exit_code == 3
    assert f"new_fingerprint reads '{c.fingerprint}'" in done.stderr
    assert f"new_public_key is the key {b.fingerprint}" in done.stderr
    done = world.run("log", "--json")
    assert done.exit_code == 0, done.stderr
    detail = json.loads(done.stdout)[0]["detail"]
    assert detail == f"new key {b.fingerprint}"  # computed from the key, not the field


def test_key_revoke_invalidates_what_a_compromised_key_signed(tmp_path: Path) -> None:
    ci, officer = new_signer(tmp_path / "ci"), new_signer(tmp_path / "officer")
    world = Rotated(tmp_path, tmp_path / "ledger", ci, officer, tmp_path, tmp_path, tmp_path)
    both = tmp_path / "both"
    both.write_text(f"ci {ci.public_line}\nofficer {officer.public_line}\n", encoding="ascii")
    assert world.run("init").exit_code == 0
    payload = audit_payload(write_small_csv(tmp_path / "data.csv"))
    first = append_record(world.ledger, RecordKind.AUDIT, payload, ci.key)
    # The thief of the CI key writes an audit and approves it.
    stolen = append_record(world.ledger, RecordKind.AUDIT, payload, ci.key)
    approval = {"approves": {"index": 1, "record_hash": stolen.record_hash}, "note": ""}
    append_record(world.ledger, RecordKind.APPROVAL, approval, ci.key)
    done = world.run("key", "revoke", ci.fingerprint, "--after", "5", key=officer)
    assert done.exit_code == 2 and "--after 5" in done.stderr
    done = world.run(
        "key",
        "revoke",
        ci.fingerprint,
        "--after",
        "0",
        "--reason",
        "leaked",
        "--json",
        key=officer,
    )
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["revoked_fingerprint"] == ci.fingerprint
    done = world.run("verify", "--trusted-keys", both, "--json")
    assert done.exit_code == 0, done.stdout + done.stderr
    warnings = " ".join(json.loads(done.stdout)["warnings"])
    assert "record 1: invalid" in warnings and "record 2: invalid" in warnings
    assert "record 0: invalid" not in warnings
    # The revoked key signs nothing more; the gate relies on nothing it signed after record 0.
    done = world.run("approve", "0", key=ci)
    assert done.exit_code == 2 and "was revoked by record 3" in done.stderr
    done = world.run("gate", "--policy", REGRESSION, "--record", "1", "--trusted-keys", both)
    assert done.exit_code == 3 and "revoked" in done.stderr
    done = world.run(
        "gate", "--policy", REGRESSION, "--record", "0", "--trusted-keys", both, "--no-record"
    )
    assert done.exit_code in (0, 1), done.stderr
    bundle = tmp_path / "stolen.zip"
    assert world.run("export", "1", "-o", bundle).exit_code == 0
    done = world.run("verify", bundle, "--trusted-keys", both)
    assert done.exit_code == 3 and "record 1: signed by key" in done.stderr
    assert first.index == 0


def test_key_revoke_by_public_key_file_and_everything_it_signed(rotated: Rotated) -> None:
    """--after -1 invalidates every record the key signed, its rotation too unless the revoker's
    trust rests on it; a key does not revoke itself (its signature would vouch for nothing)."""
    pub = rotated.root / "a.pub"
    pub.write_text(rotated.a.public_line + "\n")
    own = rotated.root / "b.pub"
    own.write_text(rotated.b.public_line + "\n")
    done = rotated.run("key", "revoke", own, "--after", "-1", key=rotated.b)
    assert done.exit_code == 2 and "sign the revocation with another trusted key" in done.stderr
    done = rotated.run("key", "revoke", pub, "--after", "-1", key=rotated.b)
    assert done.exit_code == 0, done.stderr
    assert f"revokes key {rotated.a.fingerprint}" in done.stdout
    done = rotated.run("log", "--json")
    expected = f"revokes key {rotated.a.fingerprint} after record -1"
    assert json.loads(done.stdout)[-1]["detail"] == expected
    # Trusting A only, B's trust rests on A's rotation (record 1): the revocation never reaches
    # it (docs/FORMAT.md section 4), so A's audit is invalid and B's records stay trusted ...
    done = rotated.run("verify", "--trusted-keys", rotated.trusted_a, "--json")
    assert done.exit_code == 0, done.stdout + done.stderr
    invalid = [w for w in json.loads(done.stdout)["warnings"] if "invalid, not trusted" in w]
    assert len(invalid) == 1 and "record 0" in invalid[0] and "but record 1" in invalid[0]
    # ... and trusting both (B from outside), A's two records are listed as invalid.
    both = rotated.root / "both"
    both.write_text(f"a {rotated.a.public_line}\nb {rotated.b.public_line}\n")
    done = rotated.run("verify", "--trusted-keys", both, "--json")
    assert done.exit_code == 0, done.stdout + done.stderr
    invalid = [w for w in json.loads(done.stdout)["warnings"] if "invalid, not trusted" in w]
    assert len(invalid) == 2 and "record 0" in invalid[0] and "record 1" in invalid[1]
    missing = rotated.run("key", "revoke", "SHA256:" + "A" * 43, "--after", "0")
    assert missing.exit_code == 2 and "no record of" in missing.stderr
