"""The append state (``state.json``): an untrusted cache, used only when the log agrees with it.

An append needs the record count, the committed byte length, the last record's hash and the
compact Merkle range. ``state.json`` saves rereading the log for them, but anyone who can write
the directory can edit it, so it is used only when the log and the checkpoint confirm it: the
last committed line at ``byte_length`` has ``last_hash`` and index ``size - 1``, and the
checkpoint of the same size signs the range's root. Otherwise the state is rebuilt from the log.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3

from bias_ledger.errors import LedgerError, VerificationError
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.files import open_regular
from bias_ledger.ledger.logfile import committed_length
from bias_ledger.ledger.merkle import BLAKE3_HASHER, CompactRange
from bias_ledger.ledger.reader import CHECKPOINT_FILE, RECORDS_FILE, STATE_FILE, read_ledger_file


@dataclass(frozen=True)
class AppendState:
    """What an append needs to know about the ledger so far (persisted in ``state.json``)."""

    size: int
    """Number of committed records."""
    byte_length: int
    """Length of the committed prefix of ``records.log``: exactly ``size`` lines, LF included."""
    last_hash: str | None
    """Hex BLAKE3-256 of the last record's bytes; None for an empty ledger."""
    tree: CompactRange
    """Compact Merkle range over the ``size`` entry lines."""

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "byte_length": self.byte_length,
            "last_hash": self.last_hash,
            "tree": self.tree.to_json(),
        }


def record_hash(record_bytes: bytes) -> str:
    """Hex BLAKE3-256 of a record's canonical bytes: what the next record's previous_hash names."""
    return blake3.blake3(record_bytes).hexdigest()


def line_record_hash(line: bytes) -> str:
    record_bytes, _, _ = line.partition(b"\t")
    return record_hash(record_bytes)


def _record_index(record_bytes: bytes) -> object:
    try:
        record = json.loads(record_bytes)
    except ValueError:
        return None
    return record.get("index") if isinstance(record, dict) else None


def _require_entry(line: bytes, index: int, *, path: Path) -> None:
    """Refuse to chain a new record onto a line that is not an entry (fsck can drop it)."""
    try:
        parse_line(line, where=f"{path / RECORDS_FILE} record {index}")
    except VerificationError as exc:
        raise LedgerError(
            f"{exc.message}; the last record is unreadable, so nothing can be appended after "
            "it: run 'bias-ledger fsck' to inspect and 'bias-ledger fsck --repair' to drop it"
        ) from exc


def read_records(path: Path) -> bytes:
    """All of ``records.log`` (regular file, no symlink), or nothing when it does not exist."""
    return read_ledger_file(path / RECORDS_FILE, missing_ok=True) or b""


def rebuild_state(path: Path, data: bytes | None = None) -> AppendState:
    """The state of the committed records of ``records.log`` (an uncommitted tail is ignored)."""
    if data is None:
        data = read_records(path)
    end = committed_length(data)
    lines = data[:end].split(b"\n")[:-1] if end else []
    if lines:
        _require_entry(lines[-1], len(lines) - 1, path=path)
    tree = CompactRange.of(BLAKE3_HASHER, (BLAKE3_HASHER.hash_leaf(line) for line in lines))
    last = line_record_hash(lines[-1]) if lines else None
    return AppendState(size=len(lines), byte_length=end, last_hash=last, tree=tree)


def cached_state(path: Path) -> AppendState | None:
    """What ``state.json`` claims, or None when it is missing, not a regular file or malformed."""
    try:
        raw = json.loads(read_ledger_file(path / STATE_FILE, missing_ok=True) or b"null")
        return AppendState(
            size=int(raw["size"]),
            byte_length=int(raw["byte_length"]),
            last_hash=raw["last_hash"],
            tree=CompactRange.from_json(raw["tree"], source=str(path / STATE_FILE)),
        )
    except (ValueError, KeyError, TypeError, LedgerError):
        return None


def _read_range(fd: int, start: int, end: int) -> bytes:
    return os.pread(fd, end - start, start) if end > start else b""


def _last_line(fd: int, size: int) -> bytes:
    """The last line of the first ``size`` bytes (which end in an LF), read from its end."""
    step = 1 << 20
    blocks: list[bytes] = []
    end = size - 1
    while end > 0:
        start = max(0, end - step)
        block = _read_range(fd, start, end)
        cut = block.rfind(b"\n")
        if cut >= 0:
            blocks.append(block[cut + 1 :])
            break
        blocks.append(block)
        end = start
    return b"".join(reversed(blocks))


def _confirmed(path: Path, state: AppendState) -> bool:
    """The log and the checkpoint confirm the cached state (cheap: the log's tail only)."""
    try:
        fd = open_regular(path / RECORDS_FILE, follow_symlinks=False, error=LedgerError)
    except FileNotFoundError:
        return state.size == 0 and state.byte_length == 0 and state.last_hash is None
    try:
        file_size = os.fstat(fd).st_size
        if not 0 <= state.byte_length <= file_size or state.tree.size != state.size:
            return False
        # Bytes past the cached length must be an interrupted append (no LF): a committed
        # record there means the cache is behind.
        if b"\n" in _read_range(fd, state.byte_length, file_size):
            return False
        if state.size == 0:
            return state.byte_length == 0 and state.last_hash is None
        if (
            state.byte_length == 0
            or _read_range(fd, state.byte_length - 1, state.byte_length) != b"\n"
        ):
            return False
        last = _last_line(fd, state.byte_length)
    finally:
        os.close(fd)
    record_bytes, _, _ = last.partition(b"\t")
    if (
        record_hash(record_bytes) != state.last_hash
        or _record_index(record_bytes) != state.size - 1
    ):
        return False
    checkpoint = read_ledger_file(path / CHECKPOINT_FILE, missing_ok=True)
    if checkpoint is None:
        return False
    try:
        signed, _ = parse_signed_checkpoint(checkpoint, source=str(path / CHECKPOINT_FILE))
    except VerificationError:
        return False
    return signed.size == state.size and signed.root_hash == state.tree.root(BLAKE3_HASHER)


def load_state(path: Path) -> AppendState:
    """The state to append with: the cache when the log confirms it, else rebuilt from the log.

    Rebuilding reads the whole log; it happens after a crash, an edit of ``state.json`` or
    anything else that makes the cache disagree (so a poisoned cache cannot reuse an index,
    chain to a wrong hash or sign a wrong root).
    """
    state = cached_state(path)
    if state is not None and _confirmed(path, state):
        return state
    return rebuild_state(path)


def _is_prefix_state(path: Path, state: AppendState, data: bytes) -> bool:
    """The cached state is the true state of an earlier prefix of the log (stale, not wrong)."""
    if not 0 <= state.byte_length <= len(data):
        return False
    if state.byte_length and data[state.byte_length - 1 : state.byte_length] != b"\n":
        return False
    try:
        return rebuild_state(path, data[: state.byte_length]) == state
    except LedgerError:
        return False


def state_problem(path: Path, data: bytes, actual: AppendState) -> tuple[str | None, str | None]:
    """(problem, note) about ``state.json`` compared with the state rebuilt from ``data``.

    A cache equal to the log's state is fine; one that describes an earlier prefix of the log
    is stale (a note: the next append rebuilds it); anything else is a problem (an edited or
    corrupted cache, which appends refuse to use).
    """
    state_path = path / STATE_FILE
    if not os.path.lexists(state_path):
        return None, f"{STATE_FILE} is missing (the next append rebuilds it)"
    cached = cached_state(path)
    if cached == actual:
        return None, None
    if cached is not None and _is_prefix_state(path, cached, data):
        return None, (
            f"{STATE_FILE} is stale: it describes {cached.size} of {actual.size} records "
            "(the next append rebuilds it)"
        )
    if cached is None:
        return f"{state_path}: unreadable or not a regular file (appends rebuild it)", None
    return (
        f"{state_path}: disagrees with {RECORDS_FILE} (it claims {cached.size} records, "
        f"{cached.byte_length} bytes, last hash {cached.last_hash}; the log has {actual.size} "
        f"records, {actual.byte_length} bytes, last hash {actual.last_hash}): it was edited or "
        "corrupted; appends do not use it, 'fsck --repair' rewrites it",
        None,
    )
