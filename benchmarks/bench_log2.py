"""Format-2 benchmark: append latency (0, 1, 2 witnesses), publish, verify of the directory and
over HTTP on loopback, with time and peak memory, and the Ed25519 + hash floor of the same run.

Run: python benchmarks/bench_log2.py [--records N ...] [--appends K] [--record-bytes B]

The big ledgers are written with the library's own pieces (build_record, canonical.encode,
sshsig.sign, LogEntry, encode_bundle, the tile layout) rather than N calls of append_record,
which would spend most of the time in fsync. Verify, publish and HTTP verify each run in a
fresh subprocess so that their peak RSS is their own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger import canonical, sshsig
from bias_ledger.ledger.entry import dearmor
from bias_ledger.ledger.files import write_atomically
from bias_ledger.ledger.keys import fingerprint, generate_key, public_key_openssh
from bias_ledger.ledger.keys import write_private_key_file as write_key
from bias_ledger.ledger.merkle import SHA256_HASHER, CompactRange
from bias_ledger.ledger.reader import read_meta
from bias_ledger.ledger.record import RecordHeader, RecordKind, Signer, build_record
from bias_ledger.ledger.store import append_record, init_ledger
from bias_ledger.ledger.tlog_checkpoint import Checkpoint
from bias_ledger.ledger.tlog_entry import LogEntry, record_path
from bias_ledger.ledger.tlog_store import sign_checkpoint_note
from bias_ledger.ledger.tlog_tiles import (
    ENTRIES_LEVEL,
    TILE_WIDTH,
    Tile,
    encode_bundle,
    leaf_hash,
    subtree_root,
)

START = datetime(2026, 1, 1, tzinfo=UTC)


def payload(number: int, size: int) -> dict[str, Any]:
    """An audit-shaped payload of about ``size`` bytes (groups of counts and metrics)."""
    groups: list[dict[str, Any]] = []
    while len(json.dumps(groups)) < size:
        g = len(groups)
        groups.append(
            {
                "group": [f"g{g}"],
                "counts": {"true_positives": g * 7, "false_positives": g, "true_negatives": 9},
                "metrics": {"selection_rate": {"value": 0.5 + g / 1000}},
            }
        )
    return {
        "schema_version": 2,
        "subject": {"model_name": "m", "model_version": str(number)},
        "results": {"features": [{"groups": groups}]},
    }


def write_v2(path: Path, size: int, key: Ed25519PrivateKey, record_bytes: int) -> None:
    """A valid format-2 ledger of ``size`` records, tiles and a signed checkpoint."""
    init_ledger(path, name="bench.example/log", format_version=2)
    origin = read_meta(path).origin
    public = key.public_key()
    signer = Signer(fingerprint=fingerprint(public), public_key=public_key_openssh(public))
    (path / "records").mkdir()
    tree = CompactRange(0)
    rows: list[list[bytes]] = [[]]
    bundle: list[bytes] = []
    previous = None
    template = payload(0, record_bytes)
    for index in range(size):
        header = RecordHeader(
            2,
            RecordKind.AUDIT,
            index,
            (START + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            previous,
            origin,
            signer,
        )
        template["subject"]["model_version"] = str(index)
        data = canonical.encode(build_record(header, template))
        digest = blake3.blake3(data).hexdigest()
        (path / record_path(digest)).write_bytes(data)
        blob = dearmor(sshsig.sign(key, data), where="bench")
        entry = LogEntry(
            index, "audit", digest, len(data), header.timestamp, signer.fingerprint, blob
        ).encode()
        bundle.append(entry)
        if len(bundle) == TILE_WIDTH:
            _tile(path, Tile(ENTRIES_LEVEL, index // TILE_WIDTH, TILE_WIDTH), encode_bundle(bundle))
            bundle = []
        node = leaf_hash(entry)
        tree = tree.append(SHA256_HASHER, node)
        _add(path, rows, 0, node)
        previous = digest
    if bundle:
        _tile(path, Tile(ENTRIES_LEVEL, size // TILE_WIDTH, len(bundle)), encode_bundle(bundle))
    for level, row in enumerate(rows):
        if row:
            index = (size >> (8 * level)) // TILE_WIDTH
            _tile(path, Tile(level, index, len(row)), b"".join(row))
    checkpoint = Checkpoint(origin, size, tree.root(SHA256_HASHER))
    write_atomically(path / "checkpoint", sign_checkpoint_note(checkpoint, key))


def _add(path: Path, rows: list[list[bytes]], level: int, node: bytes) -> None:
    if level == len(rows):
        rows.append([])
    rows[level].append(node)
    if len(rows[level]) == TILE_WIDTH:
        done = rows[level]
        rows[level] = []
        count = _count(rows, level)
        _tile(path, Tile(level, count, TILE_WIDTH), b"".join(done))
        _add(path, rows, level + 1, subtree_root(done))


_FULL: dict[int, int] = {}


def _count(rows: list[list[bytes]], level: int) -> int:
    number = _FULL.get(level, 0)
    _FULL[level] = number + 1
    return number


def _tile(path: Path, tile: Tile, data: bytes) -> None:
    target = path / tile.path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def floor_per_record(path: Path, sample: int = 2000) -> float:
    """Seconds per record of the irreducible work: read, BLAKE3 and SHA-512 the record bytes,
    one Ed25519 verification."""
    from bias_ledger.ledger.tlog_sig import signed_data

    key = generate_key()
    files = sorted((path / "records").iterdir())[:sample]
    datas = [f.read_bytes() for f in files]
    signatures = [key.sign(signed_data(d)) for d in datas]
    public = key.public_key()
    started = time.perf_counter()
    for data, signature in zip(datas, signatures, strict=True):
        blake3.blake3(data).digest()
        hashlib.sha256(data[:500]).digest()  # the entry's leaf hash
        public.verify(signature, signed_data(data))
    return (time.perf_counter() - started) / len(datas)


def timed_cli(*args: str, env: dict[str, str]) -> tuple[float, float, int]:
    """Run bias-ledger in a fresh process: (seconds, peak RSS MiB, exit code)."""
    code = (
        "import resource, sys, time; from bias_ledger.cli import main; sys.argv=['bias-ledger',"
        + ",".join(repr(a) for a in args)
        + "]; t=time.perf_counter()\ntry:\n main()\nexcept SystemExit as e:\n c=e.code or 0\n"
        "else:\n c=0\nprint('BENCH', time.perf_counter()-t, "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, c, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    line = [x for x in done.stderr.splitlines() if x.startswith("BENCH")][-1].split()
    return float(line[1]), float(line[2]), int(line[3])


def bench_appends(root: Path, appends: int, witnesses: int) -> list[float]:
    path = root / f"append{witnesses}"
    init_ledger(path, name="bench.example/appends", format_version=2)
    key = generate_key()
    servers = []
    if witnesses:
        from bias_ledger.ledger import note
        from bias_ledger.witness.config import make_witness, save_witnesses
        from tests.witness.servers import start_witness

        origin = read_meta(path).origin
        vkey = note.note_verifier(origin, key.public_key()).verifier_key()
        configured = []
        for number in range(witnesses):
            directory = root / f"w{witnesses}{number}"
            directory.mkdir()
            server = start_witness(directory, [(origin, vkey)], name=f"w{number}.example")
            servers.append(server)
            configured.append(make_witness(f"w{number}", server.url, server.verifier_key))
        save_witnesses(path, tuple(configured))
    times = []
    try:
        for number in range(appends):
            started = time.perf_counter()
            append_record(path, RecordKind.GATE, {"note": f"n{number}"}, key)
            times.append(time.perf_counter() - started)
    finally:
        for server in servers:
            server.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--appends", type=int, default=30)
    parser.add_argument("--record-bytes", type=int, default=2000)
    parser.add_argument("--witnesses", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument(
        "--http-max", type=int, default=10**9, help="Skip the HTTP verify above this size."
    )
    args = parser.parse_args()
    results: dict[str, Any] = {"cpus": os.cpu_count(), "load": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        for count in args.witnesses:
            try:
                times = bench_appends(root, args.appends, count)
            except ImportError as exc:
                results[f"append_{count}_witnesses"] = f"skipped ({exc})"
                continue
            results[f"append_{count}_witnesses_ms"] = {
                "median": round(statistics.median(times) * 1000, 1),
                "p90": round(sorted(times)[int(len(times) * 0.9)] * 1000, 1),
            }
        for size in args.records:
            key = generate_key()
            ledger = root / f"ledger{size}"
            started = time.perf_counter()
            write_v2(ledger, size, key, args.record_bytes)
            _FULL.clear()
            key_file = root / f"key{size}"
            write_key(key_file, key, None, comment="bench")
            env = {**os.environ, "BIAS_LEDGER_DIR": str(ledger), "BIAS_LEDGER_KEY": str(key_file)}
            row: dict[str, Any] = {"generate_s": round(time.perf_counter() - started, 1)}
            floor = floor_per_record(ledger)
            seconds, rss, code = timed_cli("verify", "--trust-ledger-keys", env=env)
            row["verify"] = {
                "s": round(seconds, 2),
                "peak_mib": round(rss),
                "exit": code,
                "ms_per_record": round(seconds / size * 1000, 3),
            }
            row["floor_ms_per_record"] = round(floor * 1000, 3)
            row["verify_vs_floor"] = round(seconds / size / floor, 2)
            site = root / f"site{size}"
            seconds, rss, code = timed_cli("publish", str(site), env=env)
            row["publish"] = {"s": round(seconds, 2), "peak_mib": round(rss), "exit": code}
            if size > args.http_max:
                results[f"records_{size}"] = row
                print(json.dumps({f"records_{size}": row}), flush=True)
                continue
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-u",
                    "-m",
                    "http.server",
                    "0",
                    "--bind",
                    "127.0.0.1",
                    "--directory",
                    str(site),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            assert server.stdout is not None
            port = server.stdout.readline().split("port ")[1].split()[0]
            try:
                seconds, rss, code = timed_cli(
                    "verify", f"http://127.0.0.1:{port}/", "--trust-ledger-keys", env=env
                )
            finally:
                server.terminate()
                server.wait()
                server.stdout.close()
            row["verify_http"] = {"s": round(seconds, 2), "peak_mib": round(rss), "exit": code}
            du = sum(f.stat().st_size for f in ledger.rglob("*") if f.is_file())
            row["ledger_mib"] = round(du / 2**20)
            results[f"records_{size}"] = row
            print(json.dumps({f"records_{size}": row}), flush=True)
    results["self_peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
