"""Datasets an engine reads: a file, a directory of files, or a glob; and their manifests.

A directory or glob is fingerprinted by a manifest (docs/FORMAT.md, "Directories and globs"):
every file's path relative to the dataset's root, size and BLAKE3, sorted by path, encoded
with the ledger's canonical encoder and hashed with BLAKE3.
"""

from __future__ import annotations

import glob as globbing
import os
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bias_ledger.errors import InputError
from bias_ledger.io.model import FileFormat, InputFile, ManifestEntry

GLOB_CHARACTERS = frozenset("*?[")


class DatasetKind(StrEnum):
    FILE = "file"
    DIRECTORY = "directory"
    GLOB = "glob"


@dataclass(frozen=True)
class Dataset:
    """A dataset as given on the command line, resolved to the files it holds."""

    spec: str
    """As the user gave it."""
    kind: DatasetKind
    format: FileFormat
    files: tuple[Path, ...]
    """Every data file, sorted by relative path."""
    root: Path
    """Relative paths in the manifest are relative to this directory."""
    hive: bool
    """True when some directory below the root is named ``key=value`` (hive partitioning)."""

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def _hidden(relative: Path) -> bool:
    # Spark, Hive and Hadoop keep bookkeeping files beside the data: _SUCCESS, _metadata, .crc.
    return any(part.startswith((".", "_")) for part in relative.parts)


def _format_of(files: Sequence[Path], spec: str) -> FileFormat:
    from bias_ledger.io.read import detect_format

    formats = {detect_format(path) for path in files}
    if len(formats) > 1:
        found = ", ".join(sorted(fmt.value for fmt in formats))
        raise InputError(f"{spec}: holds files of several formats ({found}); expected one")
    return formats.pop()


def _regular(path: Path, spec: str) -> bool:
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISLNK(mode):
        mode = path.stat().st_mode
    return stat.S_ISREG(mode)


def resolve_dataset(path: Path) -> Dataset:
    """The files of ``path``: a file, a directory (recursively, hidden and ``_`` files left
    out) or a glob pattern; InputError when it names no data file."""
    spec = str(path)
    if GLOB_CHARACTERS & set(spec):
        prefix = Path(spec.split("*")[0].split("?")[0].split("[")[0])
        root = prefix if spec.endswith(os.sep) or prefix.is_dir() else prefix.parent
        found = sorted(Path(name) for name in globbing.glob(spec, recursive=True))
        files = tuple(item for item in found if _regular(item, spec))
        if not files:
            raise InputError(f"{spec}: the pattern matches no file")
        return Dataset(
            spec, DatasetKind.GLOB, _format_of(files, spec), files, root, _hive(files, root)
        )
    if path.is_dir():
        from bias_ledger.io.read import SUFFIXES

        known = tuple(suffix for suffix, _ in SUFFIXES)
        files = tuple(
            sorted(
                item
                for item in path.rglob("*")
                if not _hidden(item.relative_to(path))
                and item.name.lower().endswith(known)
                and _regular(item, spec)
            )
        )
        if not files:
            raise InputError(
                f"{spec}: the directory holds no data file; expected files ending in "
                + ", ".join(known)
            )
        return Dataset(
            spec, DatasetKind.DIRECTORY, _format_of(files, spec), files, path, _hive(files, path)
        )
    from bias_ledger.io.read import check_readable, detect_format

    check_readable(path)
    return Dataset(spec, DatasetKind.FILE, detect_format(path), (path,), path.parent, False)


def _hive(files: Sequence[Path], root: Path) -> bool:
    return any("=" in part for item in files for part in item.relative_to(root).parts[:-1])


def manifest_digest(entries: Sequence[ManifestEntry]) -> str:
    """Hex BLAKE3 of the canonical JSON array of the entries (sorted by path)."""
    import blake3

    from bias_ledger.ledger import canonical

    encoded = canonical.encode([entry.to_json() for entry in sorted(entries, key=_by_path)])
    return blake3.blake3(encoded).hexdigest()


def _by_path(entry: ManifestEntry) -> str:
    return entry.path


def fingerprint(
    dataset: Dataset, *, rows: int, digest: Callable[[Path], tuple[str, int]] | None = None
) -> InputFile:
    """The dataset as a recorded input: a file's digest, or a directory's or glob's manifest.

    Files are hashed two at a time (BLAKE3 is itself multi-threaded on large files).
    """
    from bias_ledger.io.digest import digest_file, file_digests

    if dataset.kind is DatasetKind.FILE and digest is None:
        path = dataset.files[0]
        found = file_digests(path)  # a single file also gets its SHA-256 (format 2 records)
        return InputFile(
            str(path),
            path.name,
            dataset.format,
            found.size,
            found.blake3,
            rows,
            sha256=found.sha256,
        )
    hash_one = digest or (lambda path: digest_file(path))
    with ThreadPoolExecutor(max_workers=2) as pool:
        digests = list(pool.map(hash_one, dataset.files))
    if dataset.kind is DatasetKind.FILE:
        ((blake, size),) = digests
        path = dataset.files[0]
        return InputFile(str(path), path.name, dataset.format, size, blake, rows)
    entries = tuple(
        sorted(
            (
                ManifestEntry(dataset.relative(path), size, blake)
                for path, (blake, size) in zip(dataset.files, digests, strict=True)
            ),
            key=_by_path,
        )
    )
    total = sum(entry.size for entry in entries)
    name = Path(dataset.spec).name if dataset.kind is DatasetKind.DIRECTORY else dataset.spec
    return InputFile(
        dataset.spec, name, dataset.format, total, manifest_digest(entries), rows, entries
    )
