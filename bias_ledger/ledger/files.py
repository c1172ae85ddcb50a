"""Safe, durable file primitives: open only regular files, replace files atomically.

Standard library only (the verifier's trusted core uses it). Every reader of a ledger file or an
input file opens it through :func:`open_regular`, so a FIFO, a device (``/dev/zero``), a socket
or a directory is refused with one line instead of hanging or exhausting memory; files inside a
ledger are opened without following symlinks. Every replacement of a file goes through
:func:`write_atomically` (or :func:`replacing`, for a file written as a stream): an
unpredictable temporary name created with ``O_EXCL | O_NOFOLLOW``, fsync, rename, fsync of the
directory (the fsyncs only when ``durable``, the default).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from bias_ledger.errors import BiasLedgerError, InputError

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISLNK, "a symbolic link"),
)


def describe_mode(mode: int) -> str:
    """What kind of file ``mode`` (an ``st_mode``) is, in words."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def not_regular_message(path: Path | str, mode: int) -> str:
    return f"{path}: is {describe_mode(mode)}, expected a regular file"


def open_regular(
    path: Path | str,
    flags: int = os.O_RDONLY,
    *,
    follow_symlinks: bool = True,
    error: type[BiasLedgerError] = InputError,
    mode: int = 0o644,
) -> int:
    """Open ``path`` and return its descriptor, refusing anything but a regular file.

    The open itself cannot block: ``O_NONBLOCK`` makes opening a FIFO return at once (it is then
    refused by ``fstat``) and is cleared again before the descriptor is handed back.
    ``follow_symlinks=False`` (every file inside a ledger) refuses a symbolic link at ``path``
    rather than opening whatever it points to. A refusal raises ``error`` with one line naming
    the file and what it is. ``OSError`` (missing, permission denied) passes through unchanged.
    """
    extra = os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        extra |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | extra, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise error(f"{path}: is a symbolic link, expected a regular file") from None
        if exc.errno == errno.ENXIO:  # a FIFO opened for writing with no reader, a socket
            found = os.stat(path, follow_symlinks=follow_symlinks).st_mode
            raise error(not_regular_message(path, found)) from None
        raise
    try:
        found = os.fstat(fd).st_mode
        if not stat.S_ISREG(found):
            raise error(not_regular_message(path, found))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(
    path: Path | str,
    *,
    follow_symlinks: bool = True,
    error: type[BiasLedgerError] = InputError,
) -> bytes:
    """The bytes of the regular file ``path`` (see :func:`open_regular`); OSError passes."""
    fd = open_regular(path, follow_symlinks=follow_symlinks, error=error)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def require_regular(path: Path | str, *, error: type[BiasLedgerError] = InputError) -> int:
    """The size of ``path``, after checking that it opens as a regular file (without reading)."""
    fd = open_regular(path, error=error)
    try:
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def fsync_directory(directory: Path) -> None:
    """Make a file creation, rename or removal inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes | memoryview, offset: int | None = None) -> None:
    """Write every byte, looping over short writes; a write that makes no progress is ENOSPC."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view) if offset is None else os.pwrite(fd, view, offset)
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]
        if offset is not None:
            offset += written


def temporary_name(path: Path) -> Path:
    """An unpredictable hidden name beside ``path`` (so a planted symlink cannot be waiting)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL
_CREATE |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@contextlib.contextmanager
def replacing(path: Path, *, durable: bool = True, mode: int = 0o644) -> Iterator[int]:
    """Yield the descriptor of a new temporary file that replaces ``path`` when the block ends.

    The temporary file is created with ``O_EXCL | O_NOFOLLOW`` under an unpredictable name in
    the same directory and renamed over ``path`` (a rename replaces a symlink or hard link at
    ``path`` itself, never the file it points to), so readers see the old or the new file,
    never a mix. ``durable`` fsyncs the file before the rename and the directory after it; a
    caller that makes many files durable at once (one ``os.sync``) passes ``False``. If the
    block or any step fails, the temporary file is removed, ``path`` is unchanged and the
    exception passes. The descriptor is closed here, not by the block.
    """
    temporary = temporary_name(path)
    fd = os.open(temporary, _CREATE, mode)
    try:
        try:
            yield fd
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if durable:
        fsync_directory(path.parent)


def write_atomically(path: Path, data: bytes, *, durable: bool = True, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` through :func:`replacing` (``durable``: fsync the file
    and its directory, so the new bytes survive a crash once this returns)."""
    with replacing(path, durable=durable, mode=mode) as fd:
        write_all(fd, data)
