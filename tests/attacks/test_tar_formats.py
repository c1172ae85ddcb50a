"""Attack: a version-3 bundle rewritten by a tar tool in another tar dialect, the members and
their bytes unchanged: POSIX pax (an extended header before each member, which can override a
member's name and size for readers that honour it) and GNU (another magic, long names by
``././@LongLink`` members). The verifier reads only fixed ustar headers: a pax header is an
unexpected member, and a GNU archive is named as such instead of being read as a bad zip."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tests.attacks.cli import refused, run_cli
from tests.attacks.test_bundle_members import exported  # noqa: F401 (a fixture)


def _rewritten(source: Path, target: Path, tar_format: int) -> Path:
    with tarfile.open(source) as archive:
        members = [(info, archive.extractfile(info)) for info in archive.getmembers()]
        with tarfile.open(target, "w", format=tar_format) as out:
            for info, handle in members:
                assert handle is not None
                if tar_format == tarfile.PAX_FORMAT:  # a pax header renaming nothing visible
                    info.pax_headers = {"path": info.name, "comment": "rewritten"}
                out.addfile(info, io.BytesIO(handle.read()))
    return target


@pytest.mark.parametrize("dialect", ["pax", "gnu"])
def test_attack_bundle_in_another_tar_dialect(
    exported: tuple[Path, Path, Path],  # noqa: F811
    tmp_path: Path,
    dialect: str,
) -> None:
    _, tarred, trusted = exported
    tar_format = tarfile.PAX_FORMAT if dialect == "pax" else tarfile.GNU_FORMAT
    hostile = _rewritten(tarred, tmp_path / f"{dialect}.tar", tar_format)
    said = refused(run_cli("verify", hostile, "--trusted-keys", trusted))
    if dialect == "pax":
        assert said == (
            f"{hostile}: member '././@PaxHeader' at byte 0: expected 'bundle.json' (a member "
            "missing, extra, duplicated or out of order)"
        ), said
    else:
        assert said == (
            f"{hostile}: not a bundle: a tar archive with magic b'ustar  \\x00' at byte 257, "
            "expected POSIX ustar (b'ustar\\x0000') as version 3 writes it, or a zip"
        ), said
