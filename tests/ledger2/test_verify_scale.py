"""Format-2 verification at scale: strict on every record, the same on every core, and in
memory that does not grow with the ledger (real signed ledgers, real subprocesses)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import canonical
from bias_ledger.ledger.entry_checks import PARALLEL_THRESHOLD
from bias_ledger.ledger.keys import generate_key
from bias_ledger.ledger.record import RecordHeader, RecordKind, build_record
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_verify import verify_log
from tests.ledger2.bulk import RecordBytes, audit_records, write_ledger


def _verify(path: Path) -> int:
    return verify_log(DirectorySource(path), trusted=None, trust_log_keys=True).size


def _with_fault(
    index: int,
    fault: bytes = b"@",
    payload: Callable[[RecordHeader], dict[str, object]] | None = None,
) -> RecordBytes:
    """Small audit records; record ``index`` is ``fault`` around a good record's members, or
    a record of ``payload``."""
    normal = audit_records(300)

    def make(header: RecordHeader) -> bytes:
        if header.index != index:
            return normal(header)
        if payload is not None:
            return canonical.encode(build_record(header, payload(header)))
        return fault.replace(b"@", normal(header)[1:-1])

    return make


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (b'{"index":0,@}', "duplicate key 'index'"),
        (b'{@,"labels":{"a":"1","a":"2"}}', "duplicate key 'a'"),
        (b'{@,"extra":NaN}', "non-JSON number NaN"),
        (b"{@", "record is not valid JSON"),
    ],
)
def test_a_signed_record_that_is_not_strict_json_is_refused(
    tmp_path: Path, fault: bytes, message: str
) -> None:
    write_ledger(tmp_path / "l", 20, generate_key(), _with_fault(13, fault))
    with pytest.raises(VerificationError, match=rf"record 13: .*{message}"):
        _verify(tmp_path / "l")


def _approval(path: Path, index: int, target: int, digest: str | None) -> None:
    """A ledger whose record ``index`` approves record ``target`` = ``index - 1`` by its
    real hash (``digest`` None) or by ``digest``."""

    def payload(header: RecordHeader) -> dict[str, object]:
        named = header.previous_hash if digest is None else digest
        return {"approves": {"index": target, "record_hash": named}, "note": "ok"}

    kinds = {index: RecordKind.APPROVAL}
    write_ledger(
        path,
        index + 3,
        generate_key(),
        _with_fault(index, payload=payload),
        kinds=lambda i: kinds.get(i, RecordKind.AUDIT),
    )


def test_an_approval_is_checked_against_the_entry_of_the_record_it_names(tmp_path: Path) -> None:
    _approval(tmp_path / "good", 256, 255, None)  # the target's entry is in the bundle before
    assert _verify(tmp_path / "good") == 259
    _approval(tmp_path / "bad", 256, 255, "0" * 64)
    wrong = "record 256: approval names record 255 with hash 0{64}, which is not an earlier"
    with pytest.raises(VerificationError, match=wrong):
        _verify(tmp_path / "bad")
    _approval(tmp_path / "later", 5, 7, None)
    with pytest.raises(VerificationError, match="record 5: approval names record 7"):
        _verify(tmp_path / "later")


@pytest.mark.slow
def test_on_every_core_the_first_fault_in_log_order_is_reported(tmp_path: Path) -> None:
    size = PARALLEL_THRESHOLD + 700
    write_ledger(tmp_path / "ok", size, generate_key(), audit_records(200))
    assert _verify(tmp_path / "ok") == size
    bad = tmp_path / "bad"
    write_ledger(bad, size, generate_key(), _with_fault(size - 300, b'{"index":0,@}'))
    records = sorted((bad / "records").iterdir())
    victim = next(p for p in records if b'"index":1800,' in p.read_bytes())
    victim.write_bytes(victim.read_bytes().replace(b'"m"', b'"n"'))
    with pytest.raises(VerificationError, match=r"record 1800: .*does not hash to"):
        _verify(bad)


_MEASURE = """
import resource, sys
from pathlib import Path
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_verify import verify_log
result = verify_log(DirectorySource(Path(sys.argv[1])), trusted=None, trust_log_keys=True)
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(result.size, max(own, children))
"""


def _peak_kib(path: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    size, peak = done.stdout.split()
    return int(size), int(peak)


@pytest.mark.slow
def test_verify_memory_does_not_grow_with_the_ledger(tmp_path: Path) -> None:
    """Peak RSS of a fresh verifying process at N and 4N records of 2.5 KB: the ledger grows by
    tens of MiB, the verifier's peak by (generously) less than a fifth of that."""
    key, small, large = generate_key(), PARALLEL_THRESHOLD, 4 * PARALLEL_THRESHOLD
    write_ledger(tmp_path / "small", small, key, audit_records(2500))
    write_ledger(tmp_path / "large", large, key, audit_records(2500))
    grown = sum(f.stat().st_size for f in (tmp_path / "large").rglob("*") if f.is_file()) - sum(
        f.stat().st_size for f in (tmp_path / "small").rglob("*") if f.is_file()
    )
    assert grown > 15 * 2**20
    size_small, peak_small = _peak_kib(tmp_path / "small")
    size_large, peak_large = _peak_kib(tmp_path / "large")
    assert (size_small, size_large) == (small, large)
    print("peak KiB", peak_small, peak_large, "ledger grew", grown)
    assert (peak_large - peak_small) * 1024 < grown / 5, (peak_small, peak_large, grown)
