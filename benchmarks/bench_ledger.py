"""Ledger benchmark: append latency at 10 vs 100,000 records, full verify of 100,000 records,
and proofs in a 1,000,000-leaf tree (the last by running benchmarks/bench_merkle.py).

Run: python benchmarks/bench_ledger.py [--records N] [--appends K] [--leaves N] [--skip-merkle]

The big ledger is written line by line with the store's own functions (build_record,
canonical.encode, sshsig.sign, Entry.line, rebuild_state_file, sign_checkpoint) rather than
100,000 calls of append_record, which would spend most of the time in fsync.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger import canonical, sshsig
from bias_ledger.ledger.checkpoint import Checkpoint, sign_checkpoint
from bias_ledger.ledger.entry import Entry, dearmor
from bias_ledger.ledger.keys import fingerprint, generate_key, public_key_openssh
from bias_ledger.ledger.merkle import BLAKE3_HASHER, CompactRange
from bias_ledger.ledger.reader import CHECKPOINT_FILE, RECORDS_FILE, read_meta
from bias_ledger.ledger.record import (
    FORMAT_VERSION,
    RecordHeader,
    RecordKind,
    Signer,
    build_record,
    utc_timestamp,
)
from bias_ledger.ledger.store import NAMESPACE, append_record, init_ledger, rebuild_state_file
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import verify_ledger

START = datetime(2026, 1, 1, tzinfo=UTC)


def payload(number: int) -> dict[str, Any]:
    """A gate verdict of about 600 bytes: the size of a small, real record. It names no judged
    record ("judges"), which verify would check against the ledger."""
    return {
        "subject": {"model_name": "credit-model", "model_version": str(number), "artifact": None},
        "policy": {
            "name": "four-fifths",
            "verdict": "pass" if number % 3 else "fail",
            "findings": [
                {"rule": "four-fifths", "scope": "race_ethnicity = Black", "measured": 0.5911},
                {"rule": "four-fifths", "scope": "sex = female", "measured": 0.991},
            ],
        },
        "baseline": None,
    }


def write_ledger(path: Path, size: int, key: Ed25519PrivateKey) -> None:
    """A valid, signed ledger of ``size`` records with a checkpoint, as append_record writes it."""
    init_ledger(path, name="bench", format_version=1)  # writes records.log itself
    origin = read_meta(path).origin
    public = key.public_key()
    signer = Signer(fingerprint=fingerprint(public), public_key=public_key_openssh(public))
    previous: str | None = None
    tree = CompactRange(0)
    with (path / RECORDS_FILE).open("wb") as handle:
        for index in range(size):
            header = RecordHeader(
                format_version=FORMAT_VERSION,
                kind=RecordKind.GATE,
                index=index,
                timestamp=utc_timestamp(START + timedelta(seconds=index)),
                previous_hash=previous,
                origin=origin,
                signer=signer,
            )
            record_bytes = canonical.encode(build_record(header, payload(index)))
            armored = sshsig.sign(key, record_bytes, namespace=NAMESPACE)
            line = Entry(record_bytes, dearmor(armored, where="bench")).line()
            handle.write(line + b"\n")
            tree = tree.append(BLAKE3_HASHER, BLAKE3_HASHER.hash_leaf(line))
            previous = blake3.blake3(record_bytes).hexdigest()
    checkpoint = Checkpoint(origin=origin, size=size, root_hash=tree.root(BLAKE3_HASHER))
    (path / CHECKPOINT_FILE).write_bytes(sign_checkpoint(checkpoint, key))
    rebuild_state_file(path)


def append_latency(path: Path, key: Ed25519PrivateKey, count: int) -> list[float]:
    times = []
    for number in range(count):
        start = time.perf_counter()
        append_record(path, RecordKind.GATE, payload(number), key)
        times.append((time.perf_counter() - start) * 1e3)
    return times


def row(label: str, value: str) -> None:
    print(f"| {label:<58} | {value:>22} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--appends", type=int, default=30)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--skip-merkle", action="store_true")
    args = parser.parse_args()
    key = generate_key()
    trusted = TrustedKeys.from_fingerprints([fingerprint(key.public_key())])
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    print(f"| {'measure':<58} | {'result':>22} |")
    print(f"|{'-' * 60}|{'-' * 24}|")
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as scratch:
        small, big = Path(scratch) / "small", Path(scratch) / "big"
        write_ledger(small, 10, key)
        start = time.perf_counter()
        write_ledger(big, args.records, key)
        built = time.perf_counter() - start
        megabytes = (big / RECORDS_FILE).stat().st_size / 1e6
        row(f"write a {args.records:,}-record ledger ({megabytes:.0f} MB)", f"{built:.1f} s")
        # Verify before the appends so that the figure is for exactly --records records.
        start = time.perf_counter()
        report = verify_ledger(big, trusted=trusted)
        took = time.perf_counter() - start
        assert report.size == args.records
        row(f"full verify of {args.records:,} records (all cores)", f"{took:.2f} s")
        for label, path in (("10", small), (f"{args.records:,}", big)):
            times = append_latency(path, key, args.appends)
            median, worst = statistics.median(times), max(times)
            row(
                f"append latency with {label} records (median, max of {args.appends})",
                f"{median:.1f} ms, {worst:.1f} ms",
            )
    if not args.skip_merkle:
        print()
        # Reuse the Merkle benchmark as it is, whichever directory this was started from.
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        bench_merkle = importlib.import_module("bench_merkle")
        sys.argv = [sys.argv[0], "--leaves", str(args.leaves), "--samples", "1000"]
        bench_merkle.main()


if __name__ == "__main__":
    main()
