"""C2SP tlog-tiles (tile height 8): paths, reading tiles and entry bundles, tile hashes."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

from .merkle import root, sha256
from .sshsig import SpecError

WIDTH = 256


def encode_index(n: int) -> str:
    """`<N>` in groups of three digits, all but the last prefixed `x`: 1234067 -> x001/x234/067."""
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


def tile_path(level: int | str, n: int, width: int) -> str:
    suffix = "" if width == WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(n)}{suffix}"


def read_regular(base: Path, relative: str) -> bytes | None:
    """A file's bytes, None when absent; anything but a regular file (a symlink) is refused."""
    path = base / relative
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(mode):
        raise SpecError(f"{relative}: not a regular file")
    return path.read_bytes()


def read_tile(base: Path, level: int | str, n: int, width: int, item: int) -> tuple[bytes, int]:
    """The tile of `width` items, or the full or a wider partial one (its data and width)."""
    candidates = [width, WIDTH, *range(width + 1, WIDTH)]
    for have in dict.fromkeys(candidates):
        data = read_regular(base, tile_path(level, n, have))
        if data is None:
            continue
        if level != "entries":
            if len(data) != have * item:
                where = tile_path(level, n, have)
                raise SpecError(f"{where}: {len(data)} bytes, expected {have * item}")
            return data[: width * item], have
        return data, have
    raise SpecError(f"{tile_path(level, n, width)}: missing (nor a full or wider tile)")


def split_bundle(data: bytes, path: str, count: int) -> list[bytes]:
    """An entry bundle of exactly `count` entries: uint16 big-endian length then the entry."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise SpecError(f"{path}: truncated length at byte {pos}")
        size = int.from_bytes(data[pos : pos + 2], "big")
        if pos + 2 + size > len(data):
            raise SpecError(f"{path}: entry {len(entries)} truncated")
        entries.append(data[pos + 2 : pos + 2 + size])
        pos += 2 + size
    if len(entries) != count:
        raise SpecError(f"{path}: {len(entries)} entries, expected {count}")
    return entries


def entries(base: Path, size: int) -> Iterator[bytes]:
    """Every entry 0..size-1 of the log, in order, from its entry bundles."""
    for n in range((size + WIDTH - 1) // WIDTH):
        width = min(WIDTH, size - n * WIDTH)
        data, have = read_tile(base, "entries", n, width, 1)
        yield from split_bundle(data, tile_path("entries", n, have), have)[:width]


def check_hash_tiles(base: Path, leaves: list[bytes]) -> int:
    """Every hash tile of the tree equals the hashes computed from the leaves; returns the count."""
    level, hashes, read = 0, leaves, 0
    while hashes:
        for n in range((len(hashes) + WIDTH - 1) // WIDTH):
            chunk = hashes[n * WIDTH : (n + 1) * WIDTH]
            if read_tile(base, level, n, len(chunk), 32)[0] != b"".join(chunk):
                where = tile_path(level, n, len(chunk))
                raise SpecError(f"{where}: hashes differ from those of the entries")
            read += 1
        # Level L+1 holds the roots of the complete 256-hash groups of level L only.
        full = len(hashes) // WIDTH
        hashes = [root(sha256, hashes[i * WIDTH : (i + 1) * WIDTH]) for i in range(full)]
        level += 1
    return read
