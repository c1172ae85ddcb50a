"""The one atomic write (``files.replacing`` / ``write_atomically``): durable or not, a failure
leaves the old file and no temporary, and no writer of a ledger file follows a planted link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bias_ledger.ledger import files
from bias_ledger.witness.config import HINTS_FILE, load_hints, save_hints


def _fsynced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record what each ``os.fsync`` made durable: ``file`` or ``directory``."""
    seen: list[str] = []
    real = os.fsync

    def recording(fd: int) -> None:
        seen.append("directory" if os.path.isdir(f"/proc/self/fd/{fd}") else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    return seen


@pytest.mark.parametrize(
    ("durable", "expected"), [(True, ["file", "directory"]), (False, [])], ids=["durable", "not"]
)
def test_durable_fsyncs_the_file_and_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durable: bool, expected: list[str]
) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"old")
    seen = _fsynced(monkeypatch)
    files.write_atomically(target, b"new", durable=durable)
    assert seen == expected
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("durable", [True, False], ids=["durable", "not"])
def test_a_failing_block_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, durable: bool
) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"old")
    with (
        pytest.raises(RuntimeError, match="half way"),
        files.replacing(target, durable=durable) as fd,
    ):
        files.write_all(fd, b"half of the n")
        raise RuntimeError("half way")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_symlink_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.write_bytes(b"not yours\n")
    (tmp_path / "out").symlink_to(precious)
    files.write_atomically(tmp_path / "out", b"new", durable=False)
    assert precious.read_bytes() == b"not yours\n"
    assert not (tmp_path / "out").is_symlink()
    assert (tmp_path / "out").read_bytes() == b"new"


def test_the_witness_hints_write_nothing_through_a_link_at_the_old_temporary_name(
    tmp_path: Path,
) -> None:
    """``witness-state.json`` was written through ``.<file>.<pid>.tmp`` with ``write_bytes``,
    which follows a link planted there; it now goes through the one atomic write."""
    precious = tmp_path / "precious"
    precious.write_bytes(b"not yours\n")
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / f".{HINTS_FILE}.{os.getpid()}.tmp").symlink_to(precious)
    save_hints(ledger, {"w.example/a": 7})
    assert precious.read_bytes() == b"not yours\n"
    assert load_hints(ledger) == {"w.example/a": 7}
