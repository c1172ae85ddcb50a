"""Read a ledger directory as stored, without locking or writing (standard library only).

The layout (``docs/FORMAT.md``): ``ledger.json`` (format version and origin), ``records.log``
(one entry per line), ``checkpoint`` (the latest signed checkpoint) and ``state.json`` (a cache of
the append state that can always be rebuilt from ``records.log``). Every file is opened as a
regular file without following symlinks (:func:`bias_ledger.ledger.files.read_regular`), so a FIFO,
a device or a link planted in the ledger is refused instead of hanging or filling memory.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bias_ledger.errors import BiasLedgerError, LedgerError
from bias_ledger.ledger.files import read_regular
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
    """Bytes after the last newline: an interrupted append, never a record (see
    :mod:`bias_ledger.ledger.logfile`); empty when the file is whole."""
    checkpoint: bytes | None
    """The latest signed checkpoint, or None when the ledger has none yet."""


def resolve_ledger_path(option: Path | None) -> Path:
    """``--ledger``, else ``$BIAS_LEDGER_DIR``, else ``./.bias-ledger``."""
    if option is not None:
        return option
    from_env = os.environ.get(LEDGER_ENV)
    return Path(from_env) if from_env else Path(DEFAULT_LEDGER_DIR)


def read_ledger_file(
    path: Path, *, error: type[BiasLedgerError] = LedgerError, missing_ok: bool = False
) -> bytes | None:
    """The bytes of one file inside a ledger: regular, not a symlink; ``error`` when it is not.

    None when the file is missing and ``missing_ok``; other OS errors raise ``error``.
    """
    try:
        return read_regular(path, follow_symlinks=False, error=error)
    except FileNotFoundError:
        if missing_ok:
            return None
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_meta(path: Path, *, error: type[BiasLedgerError] = LedgerError) -> LedgerMeta:
    """Read ``ledger.json``, refusing a missing ledger or an unknown format version."""
    meta_path = path / LEDGER_FILE
    if not os.path.lexists(meta_path):
        raise LedgerError(
            f"{path}: not a bias-ledger ledger (no {LEDGER_FILE}); run 'bias-ledger init' "
            "or pass --ledger DIR"
        )
    raw = read_ledger_file(meta_path, error=error)
    try:
        data = json.loads(raw or b"")
    except ValueError as exc:
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
        fd = os.open(path / LOCK_FILE, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
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


def read_ledger(
    path: Path, *, locked: bool = False, error: type[BiasLedgerError] = LedgerError
) -> StoredLedger:
    """Read every file a verifier needs; ``locked``: the caller holds the writers' lock.

    ``error`` is raised for a ledger file that is not a regular file (a FIFO, a device, a
    symlink): ``verify`` passes VerificationError (exit 3), other commands keep LedgerError.
    """
    meta = read_meta(path, error=error)
    if meta.format_version == 2:
        from bias_ledger.ledger.tlog_read import v1_lines

        lines2, checkpoint2 = v1_lines(path)
        return StoredLedger(
            path=path, meta=meta, lines=lines2, torn_tail=b"", checkpoint=checkpoint2
        )
    # The checkpoint first: appends write the record before the checkpoint, so records read
    # afterwards cover at least what it signed, even while another process appends.
    checkpoint = read_ledger_file(path / CHECKPOINT_FILE, error=error, missing_ok=True)
    records_path = path / RECORDS_FILE
    data = read_ledger_file(records_path, error=error, missing_ok=True) or b""
    lines, tail = split_lines(data)
    if tail and not locked:
        # A reader takes no lock, so an append in progress shows its uncommitted bytes (the
        # entry before its LF). Look again once no writer holds the lock.
        with _no_writer(path):
            data = read_ledger_file(records_path, error=error, missing_ok=True) or b""
            lines, tail = split_lines(data)
    return StoredLedger(path=path, meta=meta, lines=lines, torn_tail=tail, checkpoint=checkpoint)
