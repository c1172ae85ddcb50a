"""``fsck``: inspect the ledger's files and repair what can be repaired without losing records.

An interrupted append (bytes after the last LF) is not damage: it was never a record, readers
skip it and the next append overwrites it; fsck notes it and ``--repair`` drops it. Problems
are unreadable whole lines after the checkpoint (not made by any crash of this version, which
commits an entry with its final LF) and a ``state.json`` that disagrees with the log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bias_ledger.errors import BiasLedgerError, LedgerError, VerificationError
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.files import fsync_directory, open_regular
from bias_ledger.ledger.reader import CHECKPOINT_FILE, RECORDS_FILE, STATE_FILE, read_ledger
from bias_ledger.ledger.state import rebuild_state, state_problem
from bias_ledger.ledger.store import ledger_lock, rebuild_state_file


@dataclass(frozen=True)
class FsckReport:
    """What fsck found (and, with repair, what it did)."""

    records: int
    """Complete records kept."""
    checkpoint_size: int | None
    torn_bytes: int
    """Bytes of an interrupted append after the last LF of records.log (never a record)."""
    dropped_records: int
    """Complete but unreadable records after the checkpoint, dropped with the tail."""
    problems: tuple[str, ...]
    actions: tuple[str, ...]
    notes: tuple[str, ...] = ()
    """What is not damage: an interrupted append, a stale or missing state cache."""

    @property
    def clean(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "clean": self.clean,
            "records": self.records,
            "checkpoint_size": self.checkpoint_size,
            "torn_bytes": self.torn_bytes,
            "dropped_records": self.dropped_records,
            "problems": list(self.problems),
            "notes": list(self.notes),
            "actions": list(self.actions),
        }


def _readable(line: bytes, index: int, source: str) -> bool:
    try:
        parse_line(line, where=f"{source} record {index}")
    except VerificationError:
        return False
    return line.startswith(b"{") and b"\n" not in line


def _truncate(path: Path, length: int) -> None:
    records_path = path / RECORDS_FILE
    try:
        fd = open_regular(records_path, os.O_WRONLY, follow_symlinks=False, error=LedgerError)
        try:
            os.ftruncate(fd, length)
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_directory(path)
    except OSError as exc:
        raise LedgerError(f"{records_path}: cannot truncate ({exc.strerror or exc})") from None


def missing_checkpoint(path: Path) -> BiasLedgerError:
    """Why a format-1 ledger has no checkpoint file: no record yet (exit 2), one record of an
    interrupted first append (exit 2, the next append signs one), or removed (exit 3)."""
    records = len(read_ledger(path).lines)
    where = f"{path}/{CHECKPOINT_FILE}"
    if records == 0:
        return LedgerError(f"{where}: no checkpoint yet (the ledger has no records yet)")
    if records == 1:
        return LedgerError(
            f"{where}: no checkpoint yet beside the ledger's 1 record (its append was "
            "interrupted before signing one; the next append signs one)"
        )
    return _removed(where, records)


def _removed(where: str, records: int) -> VerificationError:
    return VerificationError(
        f"{where}: missing, but {RECORDS_FILE} holds {records} records: the checkpoint was "
        "removed (records may have been removed with it); run 'bias-ledger verify'"
    )


def fsck(path: Path, *, repair: bool) -> FsckReport:
    """Inspect the ledger; with ``repair``, drop an interrupted append and rebuild the state.

    Never drops a record that the signed checkpoint covers: if the damage reaches into
    checkpointed records, that is tampering or corruption for ``verify``, and fsck refuses.
    """
    with ledger_lock(path):
        stored = read_ledger(path, locked=True)
        checkpoint_size = None
        if stored.checkpoint is not None:
            checkpoint_size = parse_signed_checkpoint(
                stored.checkpoint, source=str(path / CHECKPOINT_FILE)
            )[0].size
        elif len(stored.lines) > 1:  # as verify: appends never remove a checkpoint
            raise _removed(str(path / CHECKPOINT_FILE), len(stored.lines))
        keep = len(stored.lines)
        while keep > 0 and not _readable(stored.lines[keep - 1], keep - 1, str(path)):
            keep -= 1
        dropped = len(stored.lines) - keep
        problems: list[str] = []
        notes: list[str] = []
        if stored.torn_tail:
            notes.append(
                f"{len(stored.torn_tail)} bytes of an interrupted append after record "
                f"{len(stored.lines) - 1}: not a record (the next append overwrites them)"
            )
        if dropped:
            problems.append(f"{dropped} unreadable record(s) at the end of {RECORDS_FILE}")
        if checkpoint_size is not None and keep < checkpoint_size:
            # Damage inside what a checkpoint signed is for verify to report (exit 3), not
            # a usage problem: nothing here can be repaired without losing signed records.
            raise VerificationError(
                f"{path}: damaged records {keep}..{len(stored.lines) - 1} are covered by the "
                f"signed checkpoint (size {checkpoint_size}); fsck will not drop them: "
                "run 'bias-ledger verify' and restore the ledger from a copy"
            )
        if not dropped:
            data = b"".join(line + b"\n" for line in stored.lines)
            problem, note = state_problem(path, data, rebuild_state(path, data))
            problems.extend([problem] if problem else [])
            notes.extend([note] if note else [])
        actions: list[str] = []
        if repair and (stored.torn_tail or dropped):
            length = sum(len(line) + 1 for line in stored.lines[:keep])
            _truncate(path, length)
            actions.append(f"truncated {RECORDS_FILE} to {keep} records ({length} bytes)")
        if repair:
            rebuild_state_file(path)
            actions.append(f"rebuilt {STATE_FILE} from {RECORDS_FILE}")
        return FsckReport(
            records=keep,
            checkpoint_size=checkpoint_size,
            torn_bytes=len(stored.torn_tail),
            dropped_records=dropped,
            problems=tuple(problems),
            actions=tuple(actions),
            notes=tuple(notes),
        )
