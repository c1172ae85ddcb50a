"""A ledger past the parallel threshold: verify on every core still names the right record."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.bench_ledger import write_ledger
from bias_ledger import verify
from bias_ledger.errors import VerificationError
from bias_ledger.ledger.entry_checks import PARALLEL_THRESHOLD
from bias_ledger.ledger.keys import fingerprint, generate_key
from bias_ledger.ledger.trust import TrustedKeys
from tests.ledger.helpers import flip_char, read_lines, record_of, with_record, write_lines

SIZE = PARALLEL_THRESHOLD + 300


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrustedKeys]:
    key = generate_key()
    path = tmp_path_factory.mktemp("large") / "ledger"
    write_ledger(path, SIZE, key)
    return path, TrustedKeys.from_fingerprints([fingerprint(key.public_key())])


@pytest.fixture
def copy(large: tuple[Path, TrustedKeys], tmp_path: Path) -> Path:
    shutil.copytree(large[0], tmp_path / "ledger")
    return tmp_path / "ledger"


def test_large_ledger_verifies_in_parallel(large: tuple[Path, TrustedKeys]) -> None:
    path, trusted = large
    report = verify.verify_ledger(path, trusted=trusted)
    assert report.size == SIZE and report.checkpoint is not None
    assert report.checkpoint.size == SIZE


@pytest.mark.parametrize("field", ["timestamp", "index"])
def test_flip_in_a_late_chunk_names_its_record(
    copy: Path, large: tuple[Path, TrustedKeys], field: str
) -> None:
    target = SIZE - 7
    lines = read_lines(copy)
    record = record_of(lines[target])
    record["timestamp"] = flip_char(record["timestamp"], 18)
    if field == "index":
        record["index"] = target + 1
    lines[target] = with_record(lines[target], record)
    write_lines(copy, lines)
    hint = f"; its index reads {target + 1} where {target} was expected" if field == "index" else ""
    with pytest.raises(VerificationError, match=rf"record {target}: SSH signature by") as caught:
        verify.verify_ledger(copy, trusted=large[1])
    assert caught.value.message.endswith("after signing)" + hint)


def test_swap_in_a_late_chunk_names_its_record(copy: Path, large: tuple[Path, TrustedKeys]) -> None:
    lines = read_lines(copy)
    at = SIZE - 40
    lines[at], lines[at + 1] = lines[at + 1], lines[at]
    write_lines(copy, lines)
    with pytest.raises(VerificationError, match=rf"record {at}: expected index {at}, found"):
        verify.verify_ledger(copy, trusted=large[1])
