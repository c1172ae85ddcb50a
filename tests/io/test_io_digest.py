"""BLAKE3 digests of input files equal the digest of their bytes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import blake3
import pytest

from bias_ledger.errors import InputError
from bias_ledger.io.digest import CHUNK, digest_file

SIZES = [0, 1, 1023, 1024, 1025, 64 * 1024 + 7, CHUNK, CHUNK + 3, 2 * CHUNK + 11]


@pytest.mark.parametrize("size", SIZES)
def test_digest_equals_blake3_of_the_bytes(tmp_path: Path, size: int) -> None:
    data = bytes((i * 7 + i // 251) % 256 for i in range(min(size, 4096))) * (size // 4096 + 1)
    data = data[:size]
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    expected = blake3.blake3(data).hexdigest()
    assert digest_file(path) == (expected, size)
    steps: list[int] = []
    assert digest_file(path, progress=steps.append) == (expected, size)
    assert sum(steps) == size
    assert all(step <= CHUNK for step in steps)


@pytest.mark.interop
@pytest.mark.skipif(shutil.which("b3sum") is None, reason="b3sum is not installed")
def test_digest_equals_b3sum(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"bias-ledger" * 100_000)
    output = subprocess.run(
        ["b3sum", "--no-names", str(path)], check=True, capture_output=True, text=True
    ).stdout
    assert digest_file(path)[0] == output.strip()


def test_digest_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"gone\.csv: cannot read the file to hash it"):
        digest_file(tmp_path / "gone.csv")
