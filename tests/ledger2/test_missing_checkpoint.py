"""A format-2 ledger whose signed checkpoint is missing or damaged: ``checkpoint``, ``proof``
and ``fsck`` say "no records yet" only when that is true (a new ledger, or the leftovers of an
interrupted first append); with committed records they fail with exit 3 naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.attacks.cli import run_cli
from tests.ledger.helpers import new_signer

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
COMMANDS = (["checkpoint"], ["fsck"], ["proof", "inclusion", "0"])


def _ledger(root: Path, records: int) -> Path:
    ledger, signer = root / "ledger", new_signer(root / "key")
    assert run_cli("init", "--ledger", ledger).returncode == 0
    audit = ("audit", SAMPLE / "lending.csv", "--label", "repaid", "--prediction", "approved_v1")
    for _ in range(records):
        done = run_cli(*audit, "--sensitive", "sex", "--key", signer.path, "--ledger", ledger)
        assert done.returncode == 0, done.stderr
    return ledger


def _error(done: object) -> str:
    import subprocess

    assert isinstance(done, subprocess.CompletedProcess)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return str(lines[0])


def test_a_new_ledger_has_no_records_yet(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, 0)
    for command in (["checkpoint"], ["proof", "inclusion", "0"]):
        done = run_cli(*command, "--ledger", ledger)
        assert done.returncode == 2
        assert _error(done).endswith("checkpoint: no checkpoint (the ledger has no records yet)")
    done = run_cli("fsck", "--ledger", ledger)
    assert done.returncode == 0 and "ok: 0 records" in done.stdout


@pytest.mark.parametrize("damage", ["missing", "garbage", "truncated"])
def test_records_without_their_checkpoint_fail(tmp_path: Path, damage: str) -> None:
    ledger = _ledger(tmp_path, 2)
    checkpoint = ledger / "checkpoint"
    original = checkpoint.read_bytes()
    if damage == "missing":
        checkpoint.unlink()
    else:
        checkpoint.write_bytes(b"garbage\n" if damage == "garbage" else original[:-20])
    for command in COMMANDS:
        done = run_cli(*command, "--ledger", ledger)
        said = _error(done)
        assert done.returncode == 3, (command, said)
        assert f"{ledger}/checkpoint: " in said or "checkpoint: " in said, said
        assert "no records yet" not in said, said
        if damage == "missing":
            assert said.endswith(
                "no checkpoint, but the ledger holds committed records (records/, tile/): its "
                "signed checkpoint is missing; restore it from a backup of the ledger"
            ), said
    checkpoint.write_bytes(original)
    done = run_cli("fsck", "--ledger", ledger)
    assert done.returncode == 0 and "ok: 2 records" in done.stdout, done.stdout + done.stderr


def test_an_interrupted_first_append_is_not_a_record(tmp_path: Path) -> None:
    """What a crash before step 4 of the first append leaves (section 10.7): one record and
    tiles of width 1, no checkpoint. Nothing was committed, and the next append goes on."""
    ledger = _ledger(tmp_path, 1)
    (ledger / "checkpoint").unlink()
    done = run_cli("checkpoint", "--ledger", ledger)
    assert done.returncode == 2 and _error(done).endswith("(the ledger has no records yet)")
    assert run_cli("fsck", "--ledger", ledger).returncode == 0
    signer = tmp_path / "key"
    audit = ("audit", SAMPLE / "lending.csv", "--label", "repaid", "--prediction", "approved_v1")
    done = run_cli(*audit, "--sensitive", "age_band", "--key", signer, "--ledger", ledger)
    assert done.returncode == 0, done.stderr
    done = run_cli("fsck", "--ledger", ledger)
    assert done.returncode == 0 and "ok: 1 record," in done.stdout, done.stdout
