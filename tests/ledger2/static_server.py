"""A real ``python -m http.server`` on 127.0.0.1 serving a directory, for published logs."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def static_server(directory: Path, *, protocol: str = "HTTP/1.0") -> Iterator[str]:
    """Serve ``directory`` on a free loopback port; yields its base URL. ``HTTP/1.1`` keeps
    connections alive (and writes headers and body in two sends, Nagle's algorithm on)."""
    with static_server_process(directory, protocol=protocol) as (url, _):
        yield url


@contextmanager
def static_server_process(
    directory: Path, *, protocol: str = "HTTP/1.0"
) -> Iterator[tuple[str, int]]:
    """As :func:`static_server`, yielding the base URL and the server's process id (whose CPU
    time ``benchmarks/bench_log2.py`` reports)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(directory),
            "--protocol",
            protocol,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"port (\d+)", line)
        assert match, f"http.server did not start: {line!r}"
        yield f"http://127.0.0.1:{match.group(1)}/", process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
