"""The writers' lock of a ledger directory (both formats): one writer at a time, readers none.

Apart from :mod:`bias_ledger.ledger.store` so that the witness client, which the format-2
append calls while holding the lock, can take it too without importing the store.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path
from typing import Any

from bias_ledger.errors import LedgerError
from bias_ledger.ledger.files import describe_mode
from bias_ledger.ledger.reader import LOCK_FILE

LOCK_TIMEOUT_SECONDS = 120.0

POLL_SECONDS = 0.05
"""How often a waiting writer tries the lock again."""

_BUSY = frozenset({errno.EACCES, errno.EAGAIN, errno.EWOULDBLOCK})
"""flock's errors for a lock another holder has (some filesystems say EACCES)."""


def _check_lock_file(path: Path) -> None:
    """Refuse a lock file that is a symlink or not a regular file (it would be followed)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise LedgerError(f"{path}: is {describe_mode(mode)}, expected a regular lock file")


def _timed_out(path: Path) -> LedgerError:
    return LedgerError(
        f"{path}: another process has held the ledger lock for over {LOCK_TIMEOUT_SECONDS:.0f} s"
    )


class _LedgerLock:
    """The writers' lock, with OS errors and timeouts turned into one-line LedgerErrors.

    An exclusive ``flock`` on the lock file, which stays in place (readers take a shared one
    on it, :func:`bias_ledger.ledger.reader._no_writer`). Taken with fcntl directly where
    there is one: importing filelock cost a recorded audit about 13 ms; it remains the
    lock where fcntl is missing (Windows).
    """

    def __init__(self, path: Path) -> None:
        self._path = path / LOCK_FILE
        self._fd: int | None = None
        self._fallback: Any = None

    def __enter__(self) -> _LedgerLock:
        _check_lock_file(self._path)
        try:
            import fcntl
        except ImportError:
            self._fallback_acquire()
            return self
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
        try:
            fd = os.open(self._path, flags, 0o644)
        except OSError as exc:
            raise LedgerError(f"{self._path}: cannot lock ({exc.strerror or exc})") from None
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in _BUSY:
                        raise LedgerError(
                            f"{self._path}: cannot lock ({exc.strerror or exc})"
                        ) from None
                if time.monotonic() >= deadline:
                    raise _timed_out(self._path)
                time.sleep(POLL_SECONDS)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def _fallback_acquire(self) -> None:
        from filelock import FileLock, Timeout

        self._fallback = FileLock(str(self._path), timeout=LOCK_TIMEOUT_SECONDS)
        try:
            self._fallback.acquire()
        except Timeout as exc:
            raise _timed_out(self._path) from exc
        except OSError as exc:
            raise LedgerError(f"{self._path}: cannot lock ({exc.strerror or exc})") from None

    def __exit__(self, *exc_info: object) -> None:
        if self._fallback is not None:
            self._fallback.release()
            self._fallback = None
            return
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor releases the flock


def ledger_lock(path: Path) -> _LedgerLock:
    """The lock that serialises writers of one ledger (readers need none)."""
    return _LedgerLock(path)
