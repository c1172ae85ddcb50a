"""Files that are not safe bundles: each refused with a clear message, never extracted."""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import pytest

from bias_ledger.bundle.model import MEMBER_LIMIT
from bias_ledger.bundle.read import Limits, read_bundle
from bias_ledger.errors import BundleError

from .conftest import World
from .helpers import cli, dump, manifest, members, write_members, write_raw


def verify(path: Path, world: World) -> tuple[int, str]:
    code, output = cli("verify", path, "--trusted-keys", world.trusted)
    return code, " ".join(output.split())


def test_not_a_zip(world: World, tmp_path: Path) -> None:
    path = tmp_path / "notes.zip"
    path.write_text("just some text\n")
    code, output = verify(path, world)
    assert code == 3
    assert "not a bundle: expected a zip archive" in output


def test_empty_file(world: World, tmp_path: Path) -> None:
    path = tmp_path / "empty.zip"
    path.write_bytes(b"")
    code, output = verify(path, world)
    assert (code, "not a bundle: expected a zip archive" in output) == (3, True)


def test_truncated(world: World, tmp_path: Path) -> None:
    data = world.bundle.read_bytes()
    path = tmp_path / "truncated.zip"
    path.write_bytes(data[: len(data) // 2])
    code, output = verify(path, world)
    assert code == 3
    assert "truncated or corrupt zip archive" in output


def test_corrupt_member_data(world: World, tmp_path: Path) -> None:
    data = bytearray(world.bundle.read_bytes())
    with zipfile.ZipFile(world.bundle) as archive:
        info = archive.getinfo("records/0.json")
    # The local header is 30 bytes plus the name and extra field; the data follows.
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    path = tmp_path / "corrupt.zip"
    path.write_bytes(bytes(data))
    code, output = verify(path, world)
    assert code == 3
    assert "member 'records/0.json' is corrupt" in output


def test_unknown_format_version(world: World, tmp_path: Path) -> None:
    items = members(world.bundle)
    value = manifest(items)
    value["format_version"] = 99
    value["new_field_of_v99"] = True
    path = write_members(tmp_path / "v99.zip", {**items, "bundle.json": dump(value)})
    code, output = verify(path, world)
    assert code == 3
    assert "unknown bundle format_version 99" in output


def test_not_our_format(world: World, tmp_path: Path) -> None:
    path = write_raw(tmp_path / "other.zip", [("bundle.json", b'{"format": "something-else"}')])
    code, output = verify(path, world)
    assert code == 3
    assert "not a bias-ledger bundle" in output


def test_zip_without_manifest(world: World, tmp_path: Path) -> None:
    path = write_raw(tmp_path / "plain.zip", [("readme.txt", b"hello")])
    code, output = verify(path, world)
    assert (code, "no bundle.json member" in output) == (3, True)


@pytest.mark.parametrize(
    "name", ["../escape.txt", "records/../../escape.txt", "/tmp/escape.txt", "C:/escape.txt"]
)
def test_zip_slip(name: str, world: World, tmp_path: Path) -> None:
    target = tmp_path / "work"
    target.mkdir()
    items = [*members(world.bundle).items(), (name, b"owned")]
    path = write_raw(target / "slip.zip", items)
    before = sorted(os.listdir(tmp_path)), sorted(os.listdir(target))
    code, output = verify(path, world)
    assert code == 3
    assert "escapes the bundle" in output and "zip-slip" in output
    assert (sorted(os.listdir(tmp_path)), sorted(os.listdir(target))) == before
    assert not Path("/tmp/escape.txt").exists()


def test_duplicate_member(world: World, tmp_path: Path) -> None:
    items = members(world.bundle)
    path = write_raw(tmp_path / "dup.zip", [*items.items(), ("report.md", b"# forged\n")])
    code, output = verify(path, world)
    assert code == 3
    assert "member 'report.md' appears 2 times; expected once" in output


def test_unexpected_member(world: World, tmp_path: Path) -> None:
    path = write_members(tmp_path / "extra.zip", {**members(world.bundle), "payload.exe": b"MZ"})
    code, output = verify(path, world)
    assert code == 3
    assert "unexpected member 'payload.exe'" in output


def test_directory_entry(world: World, tmp_path: Path) -> None:
    path = write_raw(tmp_path / "dir.zip", [*members(world.bundle).items(), ("records/", b"")])
    code, output = verify(path, world)
    assert (code, "expected a plain file name" in output) == (3, True)


def test_oversized_member_declared(world: World, tmp_path: Path) -> None:
    """A member inflating to more than the per-member limit: refused by its declared size."""
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members(world.bundle).items():
            if name != "report.html":
                archive.writestr(name, data)
        with archive.open("report.html", "w", force_zip64=True) as handle:
            block = bytes(1 << 20)
            for _ in range(MEMBER_LIMIT // len(block) + 1):
                handle.write(block)
    assert path.stat().st_size < 1_000_000
    code, output = verify(path, world)
    assert code == 3
    assert f"over the limit of {MEMBER_LIMIT} bytes per member (zip bomb?)" in output


def test_total_size_limit(world: World) -> None:
    with pytest.raises(BundleError, match=r"members declare \d+ bytes in all, over the limit"):
        read_bundle(world.bundle, limits=Limits(total=10_000))


def _patch_sizes(data: bytes, name: bytes, size: int) -> bytes:
    """Make both headers of ``name`` declare ``size`` uncompressed bytes (a lying zip)."""
    out = bytearray(data)
    local = out.find(b"PK\x03\x04")
    while local != -1:
        name_length = struct.unpack_from("<H", out, local + 26)[0]
        if out[local + 30 : local + 30 + name_length] == name:
            struct.pack_into("<I", out, local + 22, size)
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", out, central + 28)[0]
        if out[central + 46 : central + 46 + name_length] == name:
            struct.pack_into("<I", out, central + 24, size)
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def test_member_inflating_past_its_declared_size(world: World, tmp_path: Path) -> None:
    path = tmp_path / "liar.zip"
    path.write_bytes(_patch_sizes(world.bundle.read_bytes(), b"report.html", 100))
    code, output = verify(path, world)
    assert code == 3
    assert "member 'report.html'" in output
    assert "corrupt" in output or "inflates past" in output


def test_missing_file_is_a_usage_error(world: World, tmp_path: Path) -> None:
    code, output = verify(tmp_path / "nowhere.zip", world)
    assert code == 2
    assert "bundle file not found" in output


def test_directory_is_a_usage_error(world: World, tmp_path: Path) -> None:
    code, output = verify(tmp_path, world)
    assert code == 2
    assert "expected a bundle file" in output
