"""Format-2 benchmark, figures in one run: append latency with 0, 1 and 2 witnesses (real
witness servers on 127.0.0.1); then per ledger size: verify of the ledger, publish, verify of
the published directory and over HTTP on loopback (``python -m http.server``, which speaks
HTTP/1.0 and closes every connection, ``--protocol HTTP/1.1``, which keeps them alive, and
nginx, where installed, whose own cost per request is small, so the client's shows;
each with its ratio to the published directory's verify, ``vs_dir``, and the server's CPU
per record, since on this machine it shares the two cores with the verifier), export of the
newest records and ``export --all`` (bundle format 3, a tar streamed both ways) and bundle
verify of each, each with time and peak memory, beside the Ed25519 + hash floor of the same run:
each verify (directory, published directory, HTTP) prints its ratio to the floor measured just
before it (the machine's load moves both alike), and its CPU time, so the cores it kept busy
(``cores``: CPU seconds over wall seconds) show its parallel efficiency, and its CPU over the
floor's CPU (``cpu_vs_floor_cpu``: the work done, whatever share of the cores it was given).

Run: python benchmarks/bench_log2.py                   (small: 2000 records)
     python benchmarks/bench_log2.py --records 10000 100000   (the README figures)

Ledgers are written by ``tests/ledger2/bulk.py`` (real signed records through the library's
own pieces, not N calls of append_record, which would spend the time in fsync). Every measured
command runs in a fresh process; its peak RSS is the larger of its own (``VmHWM``: Linux
carries ``ru_maxrss`` over exec from the parent) and its worker processes' (RUSAGE_CHILDREN).
Nothing is kept afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import blake3

from bias_ledger.ledger.keys import generate_key, public_key_openssh
from bias_ledger.ledger.keys import write_private_key_file as write_key
from bias_ledger.ledger.reader import read_meta
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import init_ledger
from bias_ledger.ledger.tlog_sig import signed_data

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package: bulk writer
from tests.ledger2.bulk import START, audit_records, write_ledger  # noqa: E402
from tests.ledger2.static_server import static_server_process  # noqa: E402

EXPORT_RECORDS = 100
"""Records exported from every ledger (the newest): a bundle's report.html draws charts for
each audit record, about a second each here, which would dominate any larger export."""


def floor_per_record(path: Path, sample: int = 2000) -> tuple[float, float]:
    """Seconds per record of the irreducible work on the ledger's own records: BLAKE3 of the
    record, the SHA-512 SSHSIG signs, one Ed25519 verification, the SHA-256 leaf hash; wall
    and CPU seconds (on a loaded machine the CPU ratio is the steadier one)."""
    key = generate_key()
    files = sorted((path / "records").iterdir())[:sample]
    datas = [f.read_bytes() for f in files]
    signatures = [key.sign(signed_data(d)) for d in datas]
    public = key.public_key()
    started, cpu = time.perf_counter(), time.process_time()
    for data, signature in zip(datas, signatures, strict=True):
        blake3.blake3(data).digest()
        hashlib.sha256(data[:500]).digest()  # the entry's leaf hash (an entry is ~500 bytes)
        public.verify(signature, signed_data(data))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return wall / len(datas), cpu / len(datas)


_TIMED = """
import resource, sys, time
from bias_ledger.cli import main
sys.argv = ["bias-ledger", *sys.argv[1:]]
started = time.perf_counter()
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
# VmHWM, not RUSAGE_SELF: Linux carries ru_maxrss over exec, so a child of a large process
# would report its parent's peak. Worker processes are forked from this small one.
own = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))
peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
own_cpu = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = own_cpu.ru_utime + own_cpu.ru_stime + workers.ru_utime + workers.ru_stime
print("BENCH", time.perf_counter() - started, peak / 1024, code, cpu, file=sys.stderr)
"""


def timed_cli(*args: str, env: dict[str, str]) -> dict[str, Any]:
    """Run bias-ledger in a fresh process: seconds, peak RSS in MiB, exit code (each printed
    as it comes: a large run takes long)."""
    done = subprocess.run(
        [sys.executable, "-c", _TIMED, *args], env=env, capture_output=True, text=True
    )
    lines = [x for x in done.stderr.splitlines() if x.startswith("BENCH")]
    if not lines:
        raise RuntimeError(f"bias-ledger {' '.join(args)} failed: {done.stderr[-2000:]}")
    _, seconds, peak, code, cpu = lines[-1].split()
    measured = {
        "s": round(float(seconds), 2),
        "cpu_s": round(float(cpu), 2),
        "cores": round(float(cpu) / float(seconds), 2),
        "peak_mib": round(float(peak)),
        "exit": int(code),
    }
    print(json.dumps({" ".join(args[:2]): measured}), file=sys.stderr, flush=True)
    return measured


def bench_appends(root: Path, appends: int, witnesses: int) -> dict[str, float]:
    """Median and p90 latency of an append (the append workflow of the CLI and the API: the
    record, tiles and checkpoint fsync'd, then the checkpoint cosigned by every witness and
    the cosignatures stored) on a format-2 ledger; checks the last checkpoint is cosigned."""
    from bias_ledger.workflows.append import append_witnessed

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
            server = start_witness(directory, [(origin, vkey)], name=f"w{number}.example")
            servers.append(server)
            configured.append(make_witness(f"w{number}", server.url, server.verifier_key))
        save_witnesses(path, tuple(configured))
    times = []
    try:
        for number in range(appends):
            started = time.perf_counter()
            append_witnessed(path, RecordKind.GATE, {"note": f"n{number}"}, key)
            times.append(time.perf_counter() - started)
        lines = (path / "checkpoint").read_text().splitlines()
        cosigned = sum(line.startswith("\u2014 w") for line in lines)
        assert cosigned == witnesses, f"{cosigned} cosignature(s) stored, {witnesses} expected"
    finally:
        for server in servers:
            server.stop()
    times.sort()
    return {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "p90_ms": round(times[int(len(times) * 0.9)] * 1000, 1),
    }


NGINX_CONF = """worker_processes 1; master_process off; daemon off; pid {dir}/nginx.pid;
error_log {dir}/error.log; events {{ worker_connections 256; }}
http {{ access_log off; sendfile on; keepalive_requests 1000000;
  client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir};
  uwsgi_temp_path {dir}; scgi_temp_path {dir};
  server {{ listen 127.0.0.1:{port}; root {site}; default_type application/octet-stream; }} }}
"""
"""nginx as one process (so that its CPU is that process's), keeping connections alive: a
static server whose own cost per request is small, so the client's shows."""


@contextmanager
def _serve(site: Path, protocol: str) -> Iterator[tuple[str, int]]:
    """The base URL of ``site`` served on loopback, and the server's process id."""
    if protocol != "nginx":
        with static_server_process(site, protocol=protocol) as served:
            yield served
        return
    server, url = _serve_nginx(site)
    try:
        yield url, server.pid
    finally:
        server.terminate()
        server.wait()


def _serve_nginx(site: Path) -> tuple[subprocess.Popen[str], str]:
    with socket.socket() as probe:  # a free port (nginx cannot be told to pick one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    scratch = Path(tempfile.mkdtemp(prefix="nginx", dir=site.parent))
    conf = scratch / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=scratch, port=port, site=site.resolve()))
    server = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(scratch)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.01)
    return server, f"http://127.0.0.1:{port}/"


def _cpu_seconds(pid: int) -> float:
    """CPU seconds a running process has used (user + system, from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def bench_size(
    root: Path,
    size: int,
    record_bytes: int,
    http_max: int,
    exported: int,
    export_all_max: int = 10**9,
) -> dict[str, Any]:
    key = generate_key()
    ledger = root / f"ledger{size}"
    started = time.perf_counter()
    write_ledger(ledger, size, key, audit_records(record_bytes))
    key_file = root / f"key{size}"
    write_key(key_file, key, None, comment="bench")
    allowed = root / f"allowed{size}"
    allowed.write_text(f"bench@example.org {public_key_openssh(key.public_key())}\n")
    env = {**os.environ, "BIAS_LEDGER_DIR": str(ledger), "BIAS_LEDGER_KEY": str(key_file)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users run from cached bytecode, as here
    row: dict[str, Any] = {
        "generate_s": round(time.perf_counter() - started, 1),
        "ledger_mib": round(_du(ledger) / 2**20),
        "record_bytes": round(_du(ledger / "records") / size),
    }
    floors: list[float] = []
    trust = ("--trusted-keys", str(allowed))

    def timed_verify(name: str, *args: str) -> None:
        """A verify command beside the floor measured just before it (same load, same run)."""
        floor, floor_cpu = floor_per_record(ledger)
        floors.append(floor)
        measured = row[name] = timed_cli("verify", *args, *trust, env=env)
        measured["ms_per_record"] = round(measured["s"] / size * 1000, 3)
        measured["floor_ms_per_record"] = round(floor * 1000, 3)
        measured["vs_floor"] = round(measured["s"] / size / floor, 2)
        measured["cpu_vs_floor_cpu"] = round(measured["cpu_s"] / size / floor_cpu, 2)
        measured["load"] = round(os.getloadavg()[0], 1)
        print(json.dumps({name: measured}), file=sys.stderr, flush=True)

    timed_verify("verify")
    site = root / f"site{size}"
    row["publish"] = timed_cli("publish", str(site), env=env)
    timed_verify("verify_published_dir", str(site))
    servers = [("verify_http", "HTTP/1.0"), ("verify_http_keepalive", "HTTP/1.1")]
    if shutil.which("nginx"):  # Debian's nginx-light, where installed
        servers.append(("verify_http_nginx", "nginx"))
    for name, protocol in servers:
        if size > http_max:
            break
        with _serve(site, protocol) as (url, server_pid):
            timed_verify(name, url)
            measured = row[name]
            measured["server_cpu_s"] = _cpu_seconds(server_pid)
            measured["server_cpu_ms_per_record"] = round(measured["server_cpu_s"] / size * 1e3, 3)
            local = row["verify_published_dir"]
            measured["vs_dir"] = round(measured["s"] / local["s"], 2)
            measured["cpu_vs_dir_cpu"] = round(measured["cpu_s"] / local["cpu_s"], 2)
            print(json.dumps({name: measured}), file=sys.stderr, flush=True)
    row["floor_ms_per_record"] = round(statistics.median(floors) * 1000, 3)
    row["verify_vs_floor"] = row["verify"]["vs_floor"]
    if not exported:
        return row
    bundle = root / f"bundle{size}.tar"  # bundle format 3: written and verified streaming
    since = START + timedelta(seconds=size - exported)
    selection = ("--since", since.strftime("%Y-%m-%dT%H:%M:%S"))
    row["export"] = timed_cli("export", *selection, "-o", str(bundle), env=env)
    row["export"]["records"] = exported
    row["export"]["bundle_mib"] = round(bundle.stat().st_size / 2**20, 1)
    row["bundle_verify"] = timed_cli("verify", str(bundle), *trust, env=env)
    bundle.unlink()
    if size <= export_all_max:
        everything = root / f"all{size}.tar"
        row["export_all"] = timed_cli("export", "--all", "-o", str(everything), env=env)
        row["export_all"]["bundle_mib"] = round(everything.stat().st_size / 2**20, 1)
        row["bundle_verify_all"] = timed_cli("verify", str(everything), *trust, env=env)
        row["bundle_verify_all"]["ms_per_record"] = round(
            row["bundle_verify_all"]["s"] / size * 1000, 3
        )
        everything.unlink()
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, nargs="+", default=[2000])
    parser.add_argument("--appends", type=int, default=20)
    parser.add_argument("--record-bytes", type=int, default=2000)
    parser.add_argument("--witnesses", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--http-max", type=int, default=10**9, help="No HTTP verify above this.")
    parser.add_argument(
        "--export-records", type=int, default=EXPORT_RECORDS, help="0: no export, no bundle."
    )
    parser.add_argument(
        "--export-all-max", type=int, default=10**9, help="No export --all above this size."
    )
    args = parser.parse_args()
    results: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        for count in args.witnesses:
            results[f"append_{count}_witnesses"] = bench_appends(root, args.appends, count)
            done = {f"append_{count}_witnesses": results[f"append_{count}_witnesses"]}
            print(json.dumps(done), flush=True)
        for size in args.records:
            row = bench_size(
                root,
                size,
                args.record_bytes,
                args.http_max,
                args.export_records,
                args.export_all_max,
            )
            results[f"records_{size}"] = row
            print(json.dumps({f"records_{size}": row}), flush=True)
    results["load_after"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
