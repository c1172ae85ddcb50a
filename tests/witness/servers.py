"""Real witness servers for tests and benchmarks: ``bias-ledger witness serve`` subprocesses.

witness = start_witness(tmp_path / "w1", logs=[(origin, log_verifier_key)])
... witness.url, witness.verifier_key ...
witness.stop()            # or witness.kill() for a kill -9
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bias_ledger.ledger.keys import generate_key, private_key_to_openssh

READY_TIMEOUT_SECONDS = 30.0


@dataclass
class RunningWitness:
    """A witness process and how to reach it."""

    process: subprocess.Popen[bytes]
    url: str
    verifier_key: str
    name: str
    directory: Path

    @property
    def key_path(self) -> Path:
        return self.directory / "witness_key"

    stderr_text: str = ""

    def stop(self) -> None:
        """SIGTERM, then wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self._reap()

    def kill(self) -> None:
        """``kill -9``: no chance to clean up."""
        if self.process.poll() is None:
            self.process.kill()
        self._reap()

    def _reap(self) -> None:
        self.process.wait(timeout=10)
        if self.process.stderr is not None and not self.process.stderr.closed:
            self.stderr_text = self.process.stderr.read().decode()
            self.process.stderr.close()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def stderr(self) -> str:
        """What the stopped process wrote on stderr."""
        return self.stderr_text


def write_logs_file(path: Path, logs: Sequence[tuple[str, str]]) -> None:
    """A ``--logs`` file trusting each ``(origin, note verifier key)``."""
    tables = [f'[[log]]\norigin = "{o}"\nverifier_keys = ["{k}"]\n' for o, k in logs]
    path.write_text("\n".join(tables), encoding="utf-8")


def start_witness(
    directory: Path,
    logs: Sequence[tuple[str, str]],
    *,
    name: str = "witness.example/w1",
    port: int = 0,
) -> RunningWitness:
    """Start (or restart, keeping its key and state) a witness whose files live in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    key_path = directory / "witness_key"
    if not key_path.exists():
        key_path.write_bytes(private_key_to_openssh(generate_key(), None))
        key_path.chmod(0o600)
    write_logs_file(directory / "logs.toml", logs)
    command = [
        sys.executable, "-m", "bias_ledger", "witness", "serve",
        "--key", str(key_path), "--logs", str(directory / "logs.toml"),
        "--listen", f"127.0.0.1:{port}", "--name", name, "--state", str(directory / "state"),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ}
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        ready = selector.select(READY_TIMEOUT_SECONDS)
    line = process.stdout.readline().decode() if ready else ""
    if not line.startswith("listening "):
        failed = RunningWitness(process, "", "", name, directory)
        failed.kill()
        raise RuntimeError(f"witness {name} did not start: {line!r} {failed.stderr()}")
    _, url, verifier_key = line.split()
    return RunningWitness(process, url, verifier_key, name, directory)
