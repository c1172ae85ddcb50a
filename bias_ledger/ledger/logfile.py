"""``records.log`` as a commit log: an entry is committed exactly when its final LF is durable.

Canonical JSON and base64 never contain a newline, so the only LF of an entry is its last byte.
An append writes the entry's bytes at the committed length and fsyncs them, and only then writes
and fsyncs the LF. A crash (``kill -9``, power loss) at any moment therefore leaves the committed
entries and at most an uncommitted tail without an LF, which is never a record: readers skip it
and the next append, holding the lock, overwrites it. A failed write (ENOSPC, EIO) is rolled
back before the error is reported, so a reported failure never hides a committed record.
"""

from __future__ import annotations

import os
from pathlib import Path

from bias_ledger.errors import LedgerError
from bias_ledger.ledger.files import fsync_directory, open_regular, write_all


def committed_length(data: bytes) -> int:
    """The length of the committed prefix of ``data``: up to and including its last LF."""
    return data.rfind(b"\n") + 1


def _describe(exc: OSError) -> str:
    name = os.strerror(exc.errno) if exc.errno else str(exc)
    return f"{name} (errno {exc.errno})" if exc.errno else name


def append_entry(path: Path, offset: int, line: bytes, *, index: int) -> int:
    """Commit ``line`` (an entry without its LF) at ``offset``; returns the new committed length.

    ``offset`` is the committed length (the caller holds the writers' lock), so any bytes after
    it are an interrupted append's and are dropped first. Raises :class:`LedgerError` naming
    the file when the entry cannot be committed, after truncating what was written back to
    ``offset``; when even that fails, the message says whether record ``index`` may be there.
    """
    created = not os.path.lexists(path)
    try:
        fd = open_regular(path, os.O_RDWR | os.O_CREAT, follow_symlinks=False, error=LedgerError)
    except OSError as exc:
        raise LedgerError(
            f"{path}: cannot open to append record {index}: {_describe(exc)}"
        ) from None
    delimiter_written = False
    try:
        try:
            if created:  # the name durable before the commit, so a commit is never lost with it
                fsync_directory(path.parent)
            if os.fstat(fd).st_size != offset:
                os.ftruncate(fd, offset)
            write_all(fd, line, offset)
            os.fsync(fd)
            # The commit point: the LF goes to disk only after every byte before it did.
            write_all(fd, b"\n", offset + len(line))
            delimiter_written = True
            os.fsync(fd)
        except OSError as exc:
            raise _rolled_back(fd, path, offset, index, exc, delimiter_written) from None
    finally:
        os.close(fd)
    return offset + len(line) + 1


def _rolled_back(
    fd: int, path: Path, offset: int, index: int, exc: OSError, delimiter_written: bool
) -> LedgerError:
    try:
        os.ftruncate(fd, offset)
        os.fsync(fd)
    except OSError as undo:
        if delimiter_written:
            return LedgerError(
                f"{path}: writing record {index} failed ({_describe(exc)}) and removing it "
                f"failed too ({_describe(undo)}): it may or may not be committed; run "
                "'bias-ledger verify' once the disk is usable"
            )
        return LedgerError(
            f"{path}: record {index} was not appended: {_describe(exc)} (its partial bytes "
            "could not be removed, but without their newline they are not a record; the next "
            "append overwrites them)"
        )
    return LedgerError(
        f"{path}: record {index} was not appended: {_describe(exc)}; the ledger is unchanged"
    )
