"""Real ledgers for the ledger tests: keys on disk, a small audit, and line-level tampering."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger import canonical, sshsig
from bias_ledger.ledger.checkpoint import Checkpoint, sign_checkpoint
from bias_ledger.ledger.entry import Entry, dearmor, parse_line
from bias_ledger.ledger.keys import fingerprint, generate_key, public_key_openssh
from bias_ledger.ledger.keys import write_private_key_file as write_key
from bias_ledger.ledger.merkle import BLAKE3_HASHER, MerkleTree
from bias_ledger.ledger.reader import CHECKPOINT_FILE, RECORDS_FILE, read_meta
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger, record_hash

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
LABELS = {"git_commit": "0123456789abcdef0123456789abcdef01234567", "git_branch": "main"}


@dataclass(frozen=True)
class Signer:
    """A key on disk and in memory."""

    key: Ed25519PrivateKey
    path: Path

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key.public_key())

    @property
    def public_line(self) -> str:
        return public_key_openssh(self.key.public_key())

    def allowed_signers(self, path: Path, principal: str = "tester@example.org") -> Path:
        path.write_text(f'{principal} namespaces="bias-ledger" {self.public_line}\n')
        return path


def new_signer(path: Path) -> Signer:
    key = generate_key()
    write_key(path, key, None, comment="tester")
    return Signer(key, path)


def write_small_csv(path: Path, rows: int = 240) -> Path:
    """Deterministic binary-classification data with two groups (no randomness needed)."""
    lines = ["id,group,label,pred"]
    for i in range(rows):
        group = "a" if i % 3 else "b"
        lines.append(f"{i},{group},{(i * 7) % 2},{(i * 11 // 3) % 2}")
    path.write_text("\n".join(lines) + "\n")
    return path


def audit_payload(data: Path) -> dict[str, Any]:
    """The payload ``bias-ledger audit`` records, computed on ``data`` by the real engine."""
    from bias_ledger._audit import audit
    from bias_ledger.records.payloads import audit_payload as record_payload

    result = audit(data, label="label", prediction="pred", sensitive=["group"], model_name="m")
    return record_payload(result, None)


@dataclass(frozen=True)
class Built:
    """A ledger of five records: audit, approval, audit with labels, key rotation, audit."""

    path: Path
    alice: Signer
    """The first key; signs records 0..3."""
    bob: Signer
    """Introduced by the rotation in record 3; signs record 4."""
    mallory: Signer
    """Never introduced."""


def build_ledger(root: Path) -> Built:
    root.mkdir(parents=True, exist_ok=True)
    alice = new_signer(root / "alice")
    bob = new_signer(root / "bob")
    mallory = new_signer(root / "mallory")
    payload = audit_payload(write_small_csv(root / "data.csv"))
    path = root / "ledger"
    init_ledger(path, name="tamper-test", format_version=1)
    first = append_record(path, RecordKind.AUDIT, payload, alice.key)
    approval = {"approves": {"index": 0, "record_hash": first.record_hash}, "note": "ok"}
    append_record(path, RecordKind.APPROVAL, approval, alice.key)
    append_record(path, RecordKind.AUDIT, payload, alice.key, labels=LABELS)
    rotation = {"new_public_key": bob.public_line, "new_fingerprint": bob.fingerprint}
    append_record(path, RecordKind.KEY_ROTATION, rotation, alice.key)
    append_record(path, RecordKind.AUDIT, payload, bob.key)
    return Built(path, alice, bob, mallory)


def read_lines(path: Path) -> list[bytes]:
    """The entry lines of a format-1 ledger; for format 2, its records as format-1 style lines
    (record bytes, TAB, base64 signature), as the readers of both formats see them."""
    if not (path / RECORDS_FILE).exists() and read_meta(path).format_version == 2:
        from bias_ledger.ledger.reader import read_ledger

        return list(read_ledger(path).lines)
    return (path / RECORDS_FILE).read_bytes().split(b"\n")[:-1]


def write_lines(path: Path, lines: list[bytes]) -> None:
    (path / RECORDS_FILE).write_bytes(b"".join(line + b"\n" for line in lines))


def record_of(line: bytes) -> dict[str, Any]:
    value = json.loads(parse_line(line, where="test").record_bytes)
    assert isinstance(value, dict)
    return value


def with_record(line: bytes, record: Mapping[str, Any]) -> bytes:
    """The entry line with new record bytes and the original signature."""
    signature = parse_line(line, where="test").signature
    return Entry(record_bytes=canonical.encode(record), signature=signature).line()


def signed_line(record: Mapping[str, Any], key: Ed25519PrivateKey) -> bytes:
    record_bytes = canonical.encode(record)
    armored = sshsig.sign(key, record_bytes, namespace="bias-ledger")
    return Entry(record_bytes=record_bytes, signature=dearmor(armored, where="test")).line()


def resign_checkpoint(path: Path, key: Ed25519PrivateKey, **changes: Any) -> None:
    """Write a checkpoint over the current records, signed by ``key`` (fields overridable)."""
    lines = read_lines(path)
    leaves = [BLAKE3_HASHER.hash_leaf(line) for line in lines]
    fields: dict[str, Any] = {
        "origin": read_meta(path).origin,
        "size": len(lines),
        "root_hash": MerkleTree(BLAKE3_HASHER, leaves).root(),
    }
    fields.update(changes)
    (path / CHECKPOINT_FILE).write_bytes(sign_checkpoint(Checkpoint(**fields), key))


def line_hash(line: bytes) -> str:
    return record_hash(parse_line(line, where="test").record_bytes)


def flip_char(text: str, position: int = -1) -> str:
    """Change one character to another of the same class (digit, hex letter, base64, other)."""
    char = text[position]
    if char.isdigit():
        new = str((int(char) + 1) % 10)
    elif char.isalpha():
        new = "b" if char == "a" else "a" if char.islower() else "B" if char == "A" else "A"
    else:
        new = "x"
    index = position % len(text)
    return text[:index] + new + text[index + 1 :]


def cli_env(tmp: Path, **extra: str) -> dict[str, str]:
    """An environment for subprocesses: no CI variables, no user config, no inherited key."""
    # PYTHONPATH stays: it is how a checkout (a worktree) runs its own code, not the installed one.
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "PYTHONPATH"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({"XDG_CONFIG_HOME": str(tmp / "config"), "COLUMNS": "200", **extra})
    return env


def run_cli(
    *args: str | Path,
    env: Mapping[str, str],
    cwd: Path | None = None,
    module: bool = True,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bias_ledger`` (or the console script) as a real process."""
    script = Path(sys.executable).with_name("bias-ledger")
    head = [sys.executable, "-m", "bias_ledger"] if module else [str(script)]
    return subprocess.run(
        [*head, *map(str, args)],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def initialised_env(tmp: Path) -> dict[str, str]:
    """:func:`cli_env` with a new signing key and a ledger at ``tmp/ledger`` made by ``init``
    (run in process, as the CLI tests' ``CliRunner`` does)."""
    from typer.testing import CliRunner

    from bias_ledger.cli.app import app

    signer = new_signer(tmp / "key")
    env = cli_env(tmp, BIAS_LEDGER_DIR=str(tmp / "ledger"), BIAS_LEDGER_KEY=str(signer.path))
    assert CliRunner().invoke(app, ["init"], env=env).exit_code == 0
    return env
