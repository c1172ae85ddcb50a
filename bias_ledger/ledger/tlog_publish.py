"""``publish``: copy a format-2 ledger's log into a directory any static web server can serve.

The ledger directory already is the C2SP tlog-tiles layout, so publishing copies what a
checkpoint covers: new records, the tiles that changed and then the checkpoint. It is
incremental (full tiles and records already there are immutable and skipped), refuses to
publish a checkpoint that does not extend the one already published (a fork or a rollback),
and serves the partial tiles of every size an append signed a checkpoint for (not only the
sizes it published) until their full tile exists, so clients holding an older checkpoint, from
a witness say, still find the tiles it names.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bias_ledger.errors import InputError, LedgerError, VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.files import describe_mode, write_atomically
from bias_ledger.ledger.state import record_hash
from bias_ledger.ledger.tlog_checkpoint import parse_checkpoint
from bias_ledger.ledger.tlog_entry import LogEntry, parse_entry, record_path
from bias_ledger.ledger.tlog_read import iter_entries, read_signed_checkpoint
from bias_ledger.ledger.tlog_source import MAX_CHECKPOINT_BYTES, DirectorySource, read_tile
from bias_ledger.ledger.tlog_tiles import (
    ENTRIES_LEVEL,
    TILE_WIDTH,
    Tile,
    level_size,
    tile_levels,
    tiles_of,
)
from bias_ledger.ledger.tlog_tree import TileTree

CHECKPOINT_FILE = "checkpoint"


@dataclass(frozen=True)
class Published:
    """What one ``publish`` did."""

    directory: Path
    old_size: int
    size: int
    records_copied: int
    tiles_written: int

    def to_json(self) -> dict[str, object]:
        return {
            "directory": str(self.directory),
            "old_size": self.old_size,
            "size": self.size,
            "records_copied": self.records_copied,
            "tiles_written": self.tiles_written,
        }


def _check_target(ledger: Path, target: Path) -> None:
    """Neither in nor around the ledger published. (``bias-ledger publish`` first refuses a
    ``target`` inside any ledger, through :mod:`bias_ledger.outputs`, a layer above this one.)"""
    ledger_real, target_real = ledger.resolve(), target.resolve()
    if target_real == ledger_real or ledger_real in target_real.parents:
        raise InputError(f"{target}: the publish directory must not be inside the ledger")
    if target_real in ledger_real.parents:
        raise InputError(f"{target}: the publish directory must not contain the ledger")


def _published_size(target: Path, origin: str, tree: TileTree) -> int:
    """The size of the checkpoint already published, checked to be a prefix of ours."""
    path = target / CHECKPOINT_FILE
    data = DirectorySource(target).read(CHECKPOINT_FILE, MAX_CHECKPOINT_BYTES)
    if data is None:
        return 0
    old = parse_checkpoint(note.parse_note(data, str(path)).text, str(path))
    if old.origin != origin:
        raise InputError(f"{path}: a log of origin {old.origin!r} is published there")
    if old.size > tree.size:
        raise VerificationError(
            f"{path}: the published log has {old.size} records, the ledger {tree.size}: "
            "refusing to roll it back"
        )
    if old.size and tree.root(old.size) != old.root_hash:
        raise VerificationError(
            f"{path}: the published checkpoint of size {old.size} is not a prefix of this "
            "ledger (a fork): refusing to overwrite it"
        )
    return old.size


def _record_bytes(source: DirectorySource, entry: LogEntry, relative: str) -> bytes:
    """The record the entry names, checked by content: a ledger's ``records/`` file may be a
    link (10.1), and whatever it points to must not be published unless it is that record."""
    data = source.read(relative)
    where = f"{source.name}/{relative}"
    if data is None:
        raise VerificationError(f"{where}: missing, the record of entry {entry.index}")
    if len(data) != entry.size or record_hash(data) != entry.record:
        raise VerificationError(
            f"{where}: {len(data)} bytes of BLAKE3 {record_hash(data)}, expected the "
            f"{entry.size} bytes of BLAKE3 {entry.record} that entry {entry.index} names; "
            "refusing to publish it"
        )
    return data


def _inside(target: Path, relative: str) -> Path:
    """``target / relative`` after creating its directories, none of them a link: a publish
    directory is often shared (a web root), and a planted ``records`` link must not make
    publish write anywhere else."""
    path = target
    for part in relative.split("/")[:-1]:
        path = path / part
        try:
            os.mkdir(path)
        except FileExistsError:
            if path.is_symlink() or not path.is_dir():
                raise InputError(
                    f"{path}: is {describe_mode(path.lstat().st_mode)}, expected a directory "
                    "of the published log"
                ) from None
    return target / relative


def _write(target: Path, relative: str, data: bytes) -> None:
    """Replace ``target / relative`` atomically (a reader never sees half a file) but not
    durably: one ``os.sync`` before the checkpoint is written replaces an fsync per file."""
    write_atomically(_inside(target, relative), data, durable=False)


def _changed_tiles(old_size: int, size: int) -> list[Tile]:
    """Tiles of the tree of ``size`` that the tree of ``old_size`` did not have in full."""
    tiles: list[Tile] = []
    for level in [ENTRIES_LEVEL, *range(tile_levels(size))]:
        old_count = level_size(old_size, level)
        tiles.extend(
            tile
            for tile in tiles_of(size, level)
            if min(TILE_WIDTH, old_count - tile.index * TILE_WIDTH) != tile.width
        )
    return tiles


def _partials_between(old_size: int, size: int) -> list[Tile]:
    """The partial tiles of every size between ``old_size`` and ``size`` (both excluded) that
    are still partial at ``size``: every append signs a checkpoint (and sends it to the
    witnesses), and tlog-tiles says "Logs MUST serve partial tiles corresponding to tree sizes
    for which a checkpoint was produced", until the full tile exists. Each is a prefix of the
    partial tile of ``size``."""
    tiles: list[Tile] = []
    for level in [ENTRIES_LEVEL, *range(tile_levels(size))]:
        count = level_size(size, level)
        index, width = divmod(count, TILE_WIDTH)
        if width == 0:
            continue
        published = level_size(old_size, level) - index * TILE_WIDTH
        tiles.extend(Tile(level, index, w) for w in range(max(published, 0) + 1, width))
    return tiles


def publish(ledger: Path, target: Path) -> Published:
    """Bring ``target`` up to the ledger's latest checkpoint."""
    _check_target(ledger, target)
    source = DirectorySource(ledger)
    try:
        signed, checkpoint = read_signed_checkpoint(source)
    except VerificationError as exc:
        raise LedgerError(f"{exc.message}: nothing to publish") from exc
    tree = TileTree(source, checkpoint.size)
    if tree.root() != checkpoint.root_hash:
        raise VerificationError(f"{ledger}: the tiles do not match the checkpoint; run verify")
    target.mkdir(parents=True, exist_ok=True)
    old_size = _published_size(target, checkpoint.origin, tree)
    records = 0
    for index, data in iter_entries(source, checkpoint.size, start=old_size):
        entry = parse_entry(data, where=f"{ledger} entry {index}")
        relative = record_path(entry.record)
        if not (target / relative).exists():
            _write(target, relative, _record_bytes(source, entry, relative))
            records += 1
    tiles = _changed_tiles(old_size, checkpoint.size)
    between = _partials_between(old_size, checkpoint.size)
    for tile in [*tiles, *between]:
        _write(target, tile.path(), read_tile(source, tile))
    os.sync()  # everything the checkpoint names is on disk before the checkpoint is
    write_atomically(_inside(target, CHECKPOINT_FILE), signed)
    for tile in tiles:
        if tile.width == TILE_WIDTH:  # clients now fall back to the full tile
            shutil.rmtree(target / (tile.full_path() + ".p"), ignore_errors=True)
    return Published(target, old_size, checkpoint.size, records, len(tiles) + len(between))
