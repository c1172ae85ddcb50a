"""Where the spec and the tool were found to disagree (/work/coord/spec_findings.md).

Each test shows what the spec requires; a strict xfail marks a tool bug not fixed yet (it turns
into a failure once fixed, so the mark gets removed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .bundle2 import verify_bundle
from .conftest import Made, cli_env, run_cli_batch
from .forge import forge_append, load_key, sign_note
from .log2 import verify_log
from .sshsig import SpecError
from .tiles import split_bundle
from .trust import read_allowed_signers
from .zipcheck import read_bundle


def tool_verify(ledger: Path, trusted: Path, tmp: Path) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "bias_ledger", "verify", "--ledger", str(ledger)]
        + ["--trusted-keys", str(trusted), "--json"],
        env=cli_env(tmp),
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report: dict[str, object] = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, report


def resigned(made: Made, tmp: Path, key: Path, extra: bytes = b"") -> Path:
    """A copy of the ledger whose checkpoint body (plus `extra` lines) is signed by `key`."""
    ledger = tmp / "ledger"
    shutil.copytree(made.ledger, ledger)
    body = (ledger / "checkpoint").read_bytes().split(b"\n\n", 1)[0] + b"\n"
    (ledger / "checkpoint").write_bytes(sign_note(body + extra, load_key(key)))
    return ledger


def test_f3_a_checkpoint_by_the_rotated_out_key_is_invalid(made: Made, tmp_path: Path) -> None:
    ledger = resigned(made, tmp_path, made.key1)
    with pytest.raises(SpecError, match="after its rotation at 2"):
        verify_log(ledger, read_allowed_signers(made.trusted1))


@pytest.mark.xfail(strict=True, reason="spec_findings F3: ledger verify misses the rotation")
def test_f3_the_tool_refuses_a_checkpoint_by_the_rotated_out_key(
    made: Made, tmp_path: Path
) -> None:
    code, _ = tool_verify(resigned(made, tmp_path, made.key1), made.trusted1, tmp_path)
    assert code == 3


def test_f4_checkpoint_extension_lines_are_accepted_by_both(made: Made, tmp_path: Path) -> None:
    ledger = resigned(made, tmp_path, made.key2, b"extension line\n")
    assert verify_log(ledger, read_allowed_signers(made.trusted1)).checkpoint.size == 5
    code, report = tool_verify(ledger, made.trusted1, tmp_path)
    assert code == 0, report


def test_f7_a_record_by_the_rotated_out_key_appended_with_its_checkpoint(
    made: Made, tmp_path: Path
) -> None:
    """Someone holding the old key appends an approval and signs the checkpoint with it."""
    ledger = tmp_path / "ledger"
    shutil.copytree(made.ledger, ledger)
    first = json.loads(split_bundle((ledger / "tile/entries/000.p/5").read_bytes(), "e", 5)[0])
    approves = {"index": 0, "record_hash": first["record"]}
    forge_append(ledger, load_key(made.key1), {"approves": approves, "note": "stolen key"})
    with pytest.raises(SpecError, match="checkpoint: signed by .* after its rotation at 2"):
        verify_log(ledger, read_allowed_signers(made.trusted1))
    # With the checkpoint signed by the current key, the record alone is invalid (section 4).
    body = (ledger / "checkpoint").read_bytes().split(b"\n\n", 1)[0] + b"\n"
    (ledger / "checkpoint").write_bytes(sign_note(body, load_key(made.key2)))
    result = verify_log(ledger, read_allowed_signers(made.trusted1))
    assert list(result.invalid) == [5]


@pytest.mark.xfail(strict=True, reason="spec_findings F7: ledger verify ignores key rotations")
def test_f7_the_tool_flags_a_record_by_the_rotated_out_key(made: Made, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    shutil.copytree(made.ledger, ledger)
    first = json.loads(split_bundle((ledger / "tile/entries/000.p/5").read_bytes(), "e", 5)[0])
    approves = {"index": 0, "record_hash": first["record"]}
    forge_append(ledger, load_key(made.key1), {"approves": approves, "note": "stolen key"})
    body = (ledger / "checkpoint").read_bytes().split(b"\n\n", 1)[0] + b"\n"
    (ledger / "checkpoint").write_bytes(sign_note(body, load_key(made.key2)))
    code, report = tool_verify(ledger, made.trusted1, tmp_path)
    # Section 4: listed as a warning (or a failure); never silently VALID.
    assert code == 3 or "5" in json.dumps(report.get("warnings")), report


def test_f10_a_bundle_extends_the_kept_format2_note(made: Made) -> None:
    data = made.bundle_consistent.read_bytes()
    result = verify_bundle(data, read_allowed_signers(made.trusted1), since=made.kept)
    assert result.indexes == (2, 4)
    with pytest.raises(SpecError, match="rollback"):
        verify_bundle(data, read_allowed_signers(made.trusted1), since=kept_later(made))


def kept_later(made: Made) -> Path:
    """A kept note larger than the bundle's tree (size 6, signed by the current key)."""
    path = made.root / "kept-6"
    body = (made.ledger / "checkpoint").read_bytes().split(b"\n\n", 1)[0].split(b"\n")
    body[1] = b"6"
    path.write_bytes(sign_note(b"\n".join(body) + b"\n", load_key(made.key2)))
    return path


def test_f10_the_tool_checks_a_bundle_since_a_kept_format2_note(made: Made, tmp_path: Path) -> None:
    commands = [
        ["verify", str(made.bundle_consistent), "--trusted-keys", str(made.trusted1)]
        + ["--since", str(made.kept)]
    ]
    assert run_cli_batch(commands, cli_env(tmp_path), tmp_path) == [0]


@pytest.mark.xfail(strict=True, reason="spec_findings F1b: export omits key_revocation records")
def test_f1b_an_export_carries_the_revocations_its_checkpoint_covers(
    made: Made, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    shutil.copytree(made.ledger, ledger)
    bundle = tmp_path / "b.zip"
    revoke = ["key", "revoke", str(made.key1.with_suffix(".pub")), "--after", "1"]
    commands = [
        [*revoke, "--key", str(made.key2), "--ledger", str(ledger)],
        ["export", "-o", str(bundle), "3", "--ledger", str(ledger)],
    ]
    assert run_cli_batch(commands, cli_env(tmp_path), tmp_path) == [0, 0]
    assert "entries/5" in read_bundle(bundle.read_bytes())
