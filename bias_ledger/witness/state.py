"""The witness's durable memory: per log origin, the latest checkpoint it cosigned.

One file per origin holds that checkpoint note exactly as it was verified. It is replaced
atomically and fsync'd before any cosignature leaves the process, so a crash or ``kill -9``
leaves the old or the new checkpoint, never less. An exclusive ``flock`` on the directory keeps
a second witness process from sharing (and so racing on) the same state.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from bias_ledger.errors import BiasLedgerError, LedgerError
from bias_ledger.ledger.files import fsync_directory, write_atomically
from bias_ledger.ledger.note import parse_note
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint

_LOCK_FILE = "lock"
_ORIGINS_DIR = "origins"


@dataclass(frozen=True)
class Cosigned:
    """The latest checkpoint a witness cosigned for one origin."""

    checkpoint: Checkpoint
    """Its parsed body (origin, size, root hash)."""
    note: bytes
    """The signed note as it was verified: the log's signatures the witness checked (evidence
    if the log forks later) and, since the monitoring endpoint, the witness's cosignature as
    it answered it (states written before hold the note as received)."""


class WitnessState:
    """A state directory, locked for this process for as long as the object is open."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            if not (directory / _ORIGINS_DIR).is_dir():
                (directory / _ORIGINS_DIR).mkdir(parents=True, exist_ok=True)
                # Durable directory entries: a state lost to power failure would let a fork in.
                fsync_directory(directory)
                fsync_directory(directory.parent)
            self._lock_fd = os.open(directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LedgerError(
                f"{directory}: cannot open the witness state: {exc.strerror}"
            ) from exc
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise LedgerError(
                f"{directory}: another witness process holds this state directory"
            ) from None

    def close(self) -> None:
        """Release the directory (the kernel also does when the process dies)."""
        os.close(self._lock_fd)

    def _path(self, origin: str) -> Path:
        # Origins are arbitrary text; a digest makes a safe, fixed-length file name.
        return self.directory / _ORIGINS_DIR / hashlib.sha256(origin.encode()).hexdigest()

    def load(self, origin: str) -> Cosigned | None:
        """The latest checkpoint cosigned for ``origin``, or None if it never cosigned one."""
        return self._load(self._path(origin), origin)

    def load_by_hash(self, origin_hash: str) -> Cosigned | None:
        """The latest checkpoint cosigned for the origin whose SHA-256 is ``origin_hash``
        (64 lowercase hex digits: the monitoring endpoint's key), or None."""
        if len(origin_hash) != 64 or any(c not in "0123456789abcdef" for c in origin_hash):
            return None
        path = self.directory / _ORIGINS_DIR / origin_hash
        found = self._load(path, None)
        if found is not None and self._path(found.checkpoint.origin) != path:
            raise LedgerError(f"{path}: holds origin {found.checkpoint.origin!r}, not its hash")
        return found

    def _load(self, path: Path, origin: str | None) -> Cosigned | None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LedgerError(f"{path}: cannot read the witness state: {exc.strerror}") from exc
        try:
            checkpoint = parse_checkpoint(parse_note(data, str(path)).text, str(path))
        except BiasLedgerError as exc:
            # Never fall back to "nothing cosigned": that would let a fork through.
            raise LedgerError(f"{path}: damaged witness state: {exc.message}") from exc
        if origin is not None and checkpoint.origin != origin:
            raise LedgerError(f"{path}: holds origin {checkpoint.origin!r}, expected {origin!r}")
        return Cosigned(checkpoint, data)

    def store(self, checkpoint: Checkpoint, note: bytes) -> None:
        """Durably record ``note`` (whose body is ``checkpoint``) as the latest cosigned."""
        write_atomically(self._path(checkpoint.origin), note, mode=0o600)
