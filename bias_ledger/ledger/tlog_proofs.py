"""Proofs and the checkpoint of a local format-2 ledger, as documents (``bias-ledger proof``,
``checkpoint``, ``fsck``): each proof is checked against the signed checkpoint's root before it
is handed out, so a damaged tile is an error here, never a wrong proof."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger.digits import is_digits
from bias_ledger.ledger.tlog_checkpoint import Checkpoint
from bias_ledger.ledger.tlog_read import iter_entries, read_signed_checkpoint
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_tiles import leaf_hash
from bias_ledger.ledger.tlog_tree import TileTree


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _committed_without_checkpoint(ledger: Path) -> bool:
    """Whether files here show that a checkpoint was written once (section 10.7): more than
    one record, or a tile of width 2 or more, which only an append after a committed one
    writes. An interrupted first append leaves one record and tiles of width 1, which nothing
    reads and the next append overwrites."""
    records = ledger / "records"
    if records.is_dir() and sum(1 for path in records.iterdir() if path.is_file()) > 1:
        return True
    for path in (ledger / "tile").rglob("*"):
        if not path.is_file():
            continue
        partial = path.parent.name.endswith(".p")
        # "²".isdigit(), but int() refuses it; a file name is too short for int()'s limit
        if not partial or not is_digits(path.name) or int(path.name) > 1:
            return True
    return False


def _signed(ledger: Path) -> tuple[bytes, Checkpoint]:
    """The signed checkpoint. An input error only for a ledger with no records yet; a
    verification failure (exit 3) when the checkpoint is damaged, or missing while records
    were committed: a log without its signed checkpoint proves nothing."""
    try:
        return read_signed_checkpoint(DirectorySource(ledger))
    except VerificationError as exc:
        if (ledger / "checkpoint").exists():
            raise
        if _committed_without_checkpoint(ledger):
            raise VerificationError(
                f"{exc.message}, but the ledger holds committed records (records/, tile/): its "
                "signed checkpoint is missing; restore it from a backup of the ledger"
            ) from exc
        raise InputError(f"{exc.message} (the ledger has no records yet)") from exc


def log_tree(ledger: Path) -> tuple[TileTree, Checkpoint]:
    """The ledger's tile tree and its checkpoint, after checking that the two agree."""
    _, checkpoint = _signed(ledger)
    tree = TileTree(DirectorySource(ledger), checkpoint.size)
    if tree.root() != checkpoint.root_hash:
        raise VerificationError(f"{ledger}: the tiles do not match the checkpoint; run verify")
    return tree, checkpoint


def inclusion_proof(ledger: Path, index: int, size: int | None) -> dict[str, Any]:
    """The RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` (default: the
    checkpoint's), hashes in base64."""
    tree, checkpoint = log_tree(ledger)
    size = checkpoint.size if size is None else size
    if not 0 <= index < size <= checkpoint.size:
        raise InputError(f"record {index}, size {size}: expected 0 <= N < size <= {tree.size}")
    entry = next(data for _, data in iter_entries(tree.source, index + 1, start=index))
    leaf = leaf_hash(entry)
    hashes = tree.checked_inclusion(index, size, leaf)
    return {
        "hash": "sha256",
        "index": index,
        "size": size,
        "entry": _b64(entry),
        "leaf_hash": _b64(leaf),
        "root_hash": _b64(tree.root(size)),
        "proof": [_b64(h) for h in hashes],
    }


def consistency_proof(ledger: Path, old_size: int, new_size: int) -> dict[str, Any]:
    """The RFC 9162 consistency proof between two sizes of the ledger, hashes in base64."""
    tree, _ = log_tree(ledger)
    hashes = tree.checked_consistency(old_size, new_size)
    return {
        "hash": "sha256",
        "old_size": old_size,
        "new_size": new_size,
        "old_root": _b64(tree.root(old_size)),
        "new_root": _b64(tree.root(new_size)),
        "proof": [_b64(h) for h in hashes],
    }


def signed_checkpoint(ledger: Path) -> tuple[bytes, dict[str, Any]]:
    """The checkpoint note's bytes, and what it says."""
    data, checkpoint = _signed(ledger)
    return data, {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root_hash": _b64(checkpoint.root_hash),
        "signed_checkpoint": data.decode("utf-8"),
    }


def checked_size(ledger: Path) -> int:
    """The number of records, after checking that the tiles hold the checkpoint's tree (0 for
    a ledger with no records yet; records without a readable checkpoint fail)."""
    try:
        return log_tree(ledger)[1].size
    except InputError:  # no records yet
        return 0
