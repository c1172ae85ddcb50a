"""Where commands write their outputs: never inside a ledger, always atomically.

Every option that writes a file (``audit -o``, ``export -o``, ``gate --junit``, ``report -o``,
``attest -o``, ``report --summary -o``, ``verify --report``), every file named by the
environment that a command writes (the gate's ``$GITHUB_STEP_SUMMARY``, the action's
``$GITHUB_OUTPUT``) and every directory a command writes into (``publish DIR``, ``witness serve
--state``) goes through this module:

- :func:`check_output_path` (a file) or :func:`check_output_directory` (a directory) before
  doing any work (before a record is appended, so a refused output never leaves a recorded
  verdict without its report), and
- :func:`write_output` or :func:`append_output` to write the file (they check again: the check
  is cheap).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from bias_ledger.errors import BiasLedgerError, InputError
from bias_ledger.ledger.files import (
    open_regular,
    replacing,
    write_all,
    write_atomically,
)
from bias_ledger.ledger.reader import LEDGER_FILE

T = TypeVar("T")

LEDGER_MARKERS: tuple[str, ...] = (LEDGER_FILE,)
"""Files whose presence makes a directory a ledger (format 1's ``ledger.json``; a later format
adds its own marker here). A marker that is unreadable, or that is not a bias-ledger one but
sits beside ledger files, still counts: a false refusal is an error message, a false
acceptance is lost records."""
_LEDGER_SIBLINGS = ("records.log", "checkpoint", "state.json", "lock")
_SNIFF_BYTES = 4096


def _is_marker(directory: Path, name: str) -> bool:
    marker = directory / name
    if not os.path.lexists(marker):
        return False
    if any(os.path.lexists(directory / sibling) for sibling in _LEDGER_SIBLINGS):
        return True
    try:
        fd = open_regular(marker, follow_symlinks=False)
    except (OSError, BiasLedgerError):  # a FIFO, a link, no permission: presumed a ledger
        return True
    with os.fdopen(fd, "rb") as handle:
        return b"bias-ledger" in handle.read(_SNIFF_BYTES)


def ledger_containing(path: Path) -> Path | None:
    """The ledger directory that ``path`` is, or is inside, or None.

    ``path`` is resolved first (symlinks followed, ``..`` removed, relative to the current
    directory), then it and each of its parents is checked for a :data:`LEDGER_MARKERS` file.
    """
    resolved = path.resolve()
    for directory in (resolved, *resolved.parents):
        if any(_is_marker(directory, name) for name in LEDGER_MARKERS):
            return directory
    return None


def _refuse_inside_a_ledger(path: Path, ledger: Path | None, what: str) -> None:
    resolved = path.resolve()
    found = ledger_containing(path)
    if found is None and ledger is not None:
        configured = ledger.resolve()
        if resolved == configured or configured in resolved.parents:
            found = configured
    if found is not None:
        raise InputError(
            f"{path}: {what} would be written inside the ledger {found}, where it could "
            "replace ledger files; choose a path outside the ledger"
        )


def check_output_path(path: Path, *, ledger: Path | None = None, what: str = "output") -> Path:
    """Refuse to write ``path`` if it is, or is inside, a ledger directory; returns ``path``.

    ``ledger`` is the command's configured ledger (``--ledger`` / ``$BIAS_LEDGER_DIR`` /
    ``./.bias-ledger``), refused even before ``init`` has made it a ledger. ``what`` names
    the option in the message (e.g. ``"--junit"``). Raises InputError (exit 2); an existing
    directory is refused too (a file path is expected: see :func:`check_output_directory`).
    """
    _refuse_inside_a_ledger(path, ledger, what)
    if path.is_dir():
        raise InputError(f"{path}: {what} is a directory, expected a file path")
    return path


def check_output_directory(
    path: Path, *, ledger: Path | None = None, what: str = "output directory"
) -> Path:
    """As :func:`check_output_path`, for a directory a command writes files into (``publish
    DIR``, ``witness serve --state``): refused if it is, or is inside, a ledger directory
    (symlinks followed) or the configured ``ledger``; it may exist. A directory ``publish``
    wrote before is no ledger (it holds no :data:`LEDGER_MARKERS` file). Returns ``path``."""
    _refuse_inside_a_ledger(path, ledger, what)
    return path


def write_output(
    path: Path,
    data: bytes | str,
    *,
    ledger: Path | None = None,
    what: str = "output",
    parents: bool = True,
) -> None:
    """Write ``data`` (str: UTF-8) to ``path`` after :func:`check_output_path`.

    A regular file (or a new one) is replaced atomically: a temporary file with an
    unpredictable name in the same directory, fsynced, then renamed, so a reader or a crash
    sees the old file or the new one. A symlink is followed and its target replaced. An
    existing FIFO or character device (``/dev/stdout``, a process substitution) is written as
    a stream. ``parents`` creates missing parent directories. OS errors raise InputError
    naming the file (exit 2).
    """
    check_output_path(path, ledger=ledger, what=what)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = os.stat(path).st_mode if os.path.exists(path) else None
        if mode is not None and (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            # The kernel follows /dev/stdout or /dev/fd/N to the stream itself.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            try:
                write_all(fd, payload)
            finally:
                os.close(fd)
            return
        target = path.resolve()
        if parents:
            target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, payload)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the {what} ({exc.strerror or exc})") from None


def append_output(
    path: Path, text: str, *, ledger: Path | None = None, what: str = "output"
) -> None:
    """Append ``text`` (UTF-8) to ``path`` (created if missing) after :func:`check_output_path`:
    for a file another program reads as it grows (``$GITHUB_STEP_SUMMARY``), so it is not
    replaced. OS errors raise InputError naming the file (exit 2)."""
    check_output_path(path, ledger=ledger, what=what)
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the {what} ({exc.strerror or exc})") from None


def write_output_stream(
    path: Path,
    produce: Callable[[BinaryIO], T],
    *,
    ledger: Path | None = None,
    what: str = "output",
) -> T:
    """As :func:`write_output`, for an output too large to hold: ``produce`` writes it to the
    stream it is given (a temporary file renamed over ``path`` once complete and fsynced, so a
    failure in ``produce`` leaves ``path`` as it was) and its return value is returned."""
    check_output_path(path, ledger=ledger, what=what)
    try:
        mode = os.stat(path).st_mode if os.path.exists(path) else None
        if mode is not None and (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            with open(path, "ab") as stream:
                return produce(stream)
        target = path.resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        with replacing(target) as fd, os.fdopen(fd, "wb", closefd=False) as stream:
            return produce(stream)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the {what} ({exc.strerror or exc})") from None
