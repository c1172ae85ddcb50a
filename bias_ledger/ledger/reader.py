"""Read a ledger directory as stored, without locking or writing (standard library only).

The layout (``docs/FORMAT.md``): ``ledger.json`` (format version and origin), ``records.log``
(one entry per line), ``checkpoint`` (the latest signed checkpoint) and ``state.json`` (a cache of
the append state that can always be rebuilt from ``records.log``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bias_ledger.errors import LedgerError
from bias_ledger.ledger.record import SUPPORTED_FORMAT_VERSIONS

LEDGER_FILE = "ledger.json"
RECORDS_FILE = "records.log"
CHECKPOINT_FILE = "checkpoint"
STATE_FILE = "state.json"
LOCK_FILE = "lock"
DEFAULT_LEDGER_DIR = ".bias-ledger"
LEDGER_ENV = "BIAS_LEDGER_DIR"
WRITER_WAIT_SECONDS = 10.0
"""How long a reader that finds a partly written tail waits for a writer to finish."""


@dataclass(frozen=True)
class LedgerMeta:
    """The contents of ``ledger.json``."""

    format_version: int
    origin: str
    """The origin line of every checkpoint: ``<name>/<random id>``."""
    created: str
    """UTC creation time."""


@dataclass(frozen=True)
class StoredLedger:
    """A ledger's files as read from disk."""

    path: Path
    meta: LedgerMeta
    lines: tuple[bytes, ...]
    """Complete entry lines, without their newline."""
    torn_tail: bytes
    """Bytes after the last newline: a partly written entry (empty when the file is whole)."""
    checkpoint: bytes | None
    """The latest signed checkpoint, or None when the ledger has none yet."""


def resolve_ledger_path(option: Path | None) -> Path:
    """``--ledger``, else ``$BIAS_LEDGER_DIR``, else ``./.bias-ledger``."""
    if option is not None:
        return option
    from_env = os.environ.get(LEDGER_ENV)
    return Path(from_env) if from_env else Path(DEFAULT_LEDGER_DIR)


def read_meta(path: Path) -> LedgerMeta:
    """Read ``ledger.json``, refusing a missing ledger or an unknown format version."""
    meta_path = path / LEDGER_FILE
    if not meta_path.is_file():
        raise LedgerError(
            f"{path}: not a bias-ledger ledger (no {LEDGER_FILE}); run 'bias-ledger init' "
            "or pass --ledger DIR"
        )
    try:
        data = json.loads(meta_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise LedgerError(f"{meta_path}: cannot read ledger metadata ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != "bias-ledger":
        raise LedgerError(f"{meta_path}: expected a bias-ledger metadata object")
    version = data.get("format_version")
    # type() rather than isinstance: true and 1.0 compare equal to 1 but are not version 1.
    if type(version) is not int or version not in SUPPORTED_FORMAT_VERSIONS:
        raise LedgerError(
            f"{meta_path}: unknown ledger format_version {version!r} (this bias-ledger reads "
            f"{sorted(SUPPORTED_FORMAT_VERSIONS)}); refusing to read it"
        )
    origin = data.get("origin")
    created = data.get("created")
    if not isinstance(origin, str) or not origin or not isinstance(created, str):
        raise LedgerError(f"{meta_path}: expected string fields 'origin' and 'created'")
    return LedgerMeta(format_version=version, origin=origin, created=created)


def split_lines(data: bytes) -> tuple[tuple[bytes, ...], bytes]:
    """Complete lines (without newline) and the torn tail after the last newline."""
    end = data.rfind(b"\n") + 1
    body, tail = data[:end], data[end:]
    lines = tuple(body.split(b"\n")[:-1]) if body else ()
    return lines, tail


@contextmanager
def _no_writer(path: Path) -> Iterator[None]:
    """Hold a shared lock on the writers' lock file, waiting up to WRITER_WAIT_SECONDS.

    Writers hold an exclusive flock on it (filelock) while they append; a shared one keeps
    them out without writing anything. Where flock is unavailable, this waits for nothing.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        fd = os.open(path / LOCK_FILE, os.O_RDONLY)
    except OSError:
        yield  # no lock file: nobody has ever appended
        return
    try:
        deadline = time.monotonic() + WRITER_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break  # a stuck writer: report what is on disk
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)


def _read_records(records_path: Path) -> bytes:
    try:
        return records_path.read_bytes() if records_path.exists() else b""
    except OSError as exc:
        raise LedgerError(f"{records_path}: cannot read ({exc.strerror})") from exc


def read_ledger(path: Path, *, locked: bool = False) -> StoredLedger:
    """Read every file a verifier needs; ``locked``: the caller holds the writers' lock."""
    meta = read_meta(path)
    if meta.format_version == 2:
        from bias_ledger.ledger.tlog_read import v1_lines

        lines2, checkpoint2 = v1_lines(path)
        return StoredLedger(
            path=path, meta=meta, lines=lines2, torn_tail=b"", checkpoint=checkpoint2
        )
    # The checkpoint first: appends write the record before the checkpoint, so records read
    # afterwards cover at least what it signed, even while another process appends.
    checkpoint_path = path / CHECKPOINT_FILE
    checkpoint = checkpoint_path.read_bytes() if checkpoint_path.exists() else None
    records_path = path / RECORDS_FILE
    data = _read_records(records_path)
    lines, tail = split_lines(data)
    if tail and not locked:
        # A reader takes no lock, so an append in progress can look like a torn tail (the
        # kernel may show part of a write). Look again once no writer holds the lock.
        with _no_writer(path):
            lines, tail = split_lines(_read_records(records_path))
    return StoredLedger(path=path, meta=meta, lines=lines, torn_tail=tail, checkpoint=checkpoint)
