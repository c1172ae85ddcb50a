"""Attack: hostile members in a bundle's container, zip (version 2) and tar (version 3): a
duplicate name that shadows another, path traversal, links, a local header that disagrees with
the central directory, declared sizes that lie (zip bombs), extra and case-colliding members.
Real exported bundles, changed byte by byte or rebuilt, verified by the CLI in a fresh process:
each is refused (exit 3, one line), and memory stays bounded."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import tarfile
import warnings
import zipfile
from pathlib import Path

import pytest

from tests.attacks.cli import attack_env, refused, run_cli
from tests.ledger.helpers import Signer
from tests.ledger2.helpers import copied_v2

ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@pytest.fixture
def exported(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A zip (version 2) and a tar (version 3) bundle of a 3-record ledger, and the keys."""
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    zipped, tarred = tmp_path / "bundle.zip", tmp_path / "bundle.tar"
    for target in (zipped, tarred):
        done = run_cli("export", "--all", "-o", target, ledger=ledger)
        assert done.returncode == 0, done.stderr
    trusted = Signer.allowed_signers(signer, tmp_path / "allowed_signers")
    for target in (zipped, tarred):
        assert run_cli("verify", target, "--trusted-keys", trusted).returncode == 0
    return zipped, tarred, trusted


def _members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _zip(path: Path, members: list[tuple[str, bytes]]) -> Path:
    """Members written in the exporter's fixed layout (deflated, fixed time and mode)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # "Duplicate name": the attack
        for name, data in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    path.write_bytes(buffer.getvalue())
    return path


def test_attack_zip_duplicate_member_shadows_the_first(
    exported: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    zipped, _, trusted = exported
    members = _members(zipped)
    record = next(i for i, (name, _) in enumerate(members) if name == "records/0.json")
    forged = members[record][1].replace(b'"record 0"', b'"record X"')
    # Two entries named records/0.json: one reader takes the first, another the last.
    for variant in ([members[record]], [(members[record][0], forged)]):
        shadowed = [*members[: record + 1], *variant, *members[record + 1 :]]
        said = refused(
            run_cli("verify", _zip(tmp_path / "dup.zip", shadowed), "--trusted-keys", trusted)
        )
        assert "records/0.json" in said and "appears 2 times" in said, said


@pytest.mark.parametrize(
    "name", ["../evil", "/etc/evil", "records/../../evil", "C:/evil", "records\\0.json"]
)
def test_attack_zip_member_names_that_escape(
    exported: tuple[Path, Path, Path], tmp_path: Path, name: str
) -> None:
    zipped, _, trusted = exported
    members = sorted([*_members(zipped), (name, b"x")])
    said = refused(
        run_cli("verify", _zip(tmp_path / "slip.zip", members), "--trusted-keys", trusted)
    )
    assert repr(name) in said or name in said, said


@pytest.mark.parametrize("name", ["RECORDS/0.json", "Bundle.json", "records/0.JSON", "extra"])
def test_attack_zip_extra_and_case_colliding_members(
    exported: tuple[Path, Path, Path], tmp_path: Path, name: str
) -> None:
    zipped, _, trusted = exported
    members = sorted([*_members(zipped), (name, b"{}")])
    said = refused(
        run_cli("verify", _zip(tmp_path / "case.zip", members), "--trusted-keys", trusted)
    )
    assert name in said, said


@pytest.mark.parametrize(
    ("field", "offset", "value"),
    [
        ("method", 8, struct.pack("<H", 0)),
        ("crc-32", 14, b"\0\0\0\0"),
        ("uncompressed size", 22, struct.pack("<L", 1)),
        ("flags", 6, struct.pack("<H", 0x800)),
        ("mod time", 10, struct.pack("<H", 0x1234)),
    ],
)
def test_attack_zip_local_header_disagrees_with_the_central_directory(
    exported: tuple[Path, Path, Path], tmp_path: Path, field: str, offset: int, value: bytes
) -> None:
    """A streaming reader (by hand, or another tool) reads local headers; we read the
    central directory: the two must describe the same member, or the bundle is refused."""
    zipped, _, trusted = exported
    data = bytearray(zipped.read_bytes())
    with zipfile.ZipFile(zipped) as archive:
        info = archive.getinfo("records/0.json")
    start = info.header_offset + offset
    data[start : start + len(value)] = value
    changed = tmp_path / "local.zip"
    changed.write_bytes(bytes(data))
    said = refused(run_cli("verify", changed, "--trusted-keys", trusted))
    assert "records/0.json" in said, said


_PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
"""Runs a command as the only child of a fresh process and prints its peak RSS in KiB (this
test process's RUSAGE_CHILDREN would be the largest of every child any test here ran)."""


def _peak_mib_of(*args: str | Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, sys.executable, "-m", "bias_ledger", *map(str, args)],
        capture_output=True,
        text=True,
        env=attack_env(),
        check=True,
    )
    return int(done.stdout) / 1024


def test_attack_zip_bomb_with_an_honest_or_a_lying_declared_size(
    exported: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    zipped, _, trusted = exported
    members = _members(zipped)
    bomb = b"\0" * (200 << 20)  # 200 MiB of zeros, about 200 KiB deflated
    honest = _zip(tmp_path / "bomb.zip", sorted([*members[:-1], (members[-1][0], bomb)]))
    said = refused(run_cli("verify", honest, "--trusted-keys", trusted))
    assert "zip bomb" in said and members[-1][0] in said, said
    # The same member declaring 100 bytes in the central directory and its local header.
    data = bytearray(honest.read_bytes())
    with zipfile.ZipFile(honest) as archive:
        info = archive.getinfo(members[-1][0])
    data[info.header_offset + 22 : info.header_offset + 26] = struct.pack("<L", 100)
    central = struct.unpack("<L", data[-6:-2])[0]  # the end record's directory offset
    while data[central + 46 : central + 46 + len(info.filename)] != info.filename.encode():
        lengths = struct.unpack("<HHH", data[central + 28 : central + 34])
        central += 46 + sum(lengths)
    data[central + 24 : central + 28] = struct.pack("<L", 100)
    lying = tmp_path / "lying.zip"
    lying.write_bytes(bytes(data))
    said = refused(run_cli("verify", lying, "--trusted-keys", trusted))
    assert members[-1][0] in said, said
    assert _peak_mib_of("verify", lying, "--trusted-keys", trusted) < 400


def _tar_members(path: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(path) as archive:
        out = []
        for info in archive.getmembers():
            handle = archive.extractfile(info)
            out.append((info, handle.read() if handle else b""))
        return out


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    return info, data


@pytest.mark.parametrize(
    "attack",
    [
        "duplicate-shadowing",
        "traversal",
        "absolute",
        "symlink",
        "hardlink",
        "case-collision",
        "extra-at-end",
    ],
)
def test_attack_tar_members(exported: tuple[Path, Path, Path], tmp_path: Path, attack: str) -> None:
    _, tarred, trusted = exported
    members = _tar_members(tarred)
    at = next(i for i, (info, _) in enumerate(members) if info.name == "records/0.json")
    record = members[at][1]
    if attack == "duplicate-shadowing":
        forged = record.replace(b'"record 0"', b'"record X"')
        members.insert(at + 1, _file("records/0.json", forged))
    elif attack in ("traversal", "absolute"):
        name = "../records/0.json" if attack == "traversal" else "/tmp/records/0.json"
        members[at] = _file(name, record)
    elif attack in ("symlink", "hardlink"):
        link = tarfile.TarInfo("records/0.json")
        link.type = tarfile.SYMTYPE if attack == "symlink" else tarfile.LNKTYPE
        link.linkname = "entries/0"
        members[at] = (link, b"")
    elif attack == "case-collision":
        members.insert(at + 1, _file("Records/0.json", record))
    else:
        members.append(_file("extra", b"x"))
    said = refused(
        run_cli("verify", _tar(tmp_path / "hostile.tar", members), "--trusted-keys", trusted)
    )
    assert said, said
    report = tmp_path / "report.md"
    done = run_cli("report", tmp_path / "hostile.tar", "-o", report, "--trusted-keys", trusted)
    assert done.returncode == 3 and not report.exists(), done.stderr
