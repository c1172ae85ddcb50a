"""A log past one full tile: full and partial tiles, level 1, incremental publishing.

The tool writes the log in a subprocess through its own library (300 CLI runs would take
minutes); the verifier reads only the files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import cli_env, run_cli
from .log2 import verify_log
from .sshsig import SpecError
from .tiles import tile_path
from .trust import read_allowed_signers

APPEND = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from bias_ledger.ledger.keys import generate_key, load_private_key_file, public_key_openssh
    from bias_ledger.ledger.keys import write_private_key_file
    from bias_ledger.ledger.record import RecordKind
    from bias_ledger.ledger.store import append_record, init_ledger

    os.fsync = lambda fd: None  # durability is not what this test checks
    path, key_path, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    if not key_path.exists():
        init_ledger(path, name="spec.example/tiles", format_version=2)
        write_private_key_file(key_path, generate_key(), None, comment="tiles")
    key = load_private_key_file(key_path, None)
    print(public_key_openssh(key.public_key()))
    for number in range(count):
        append_record(path, RecordKind.GATE, {"note": f"gate {number}"}, key)
    """
)


def append(tmp: Path, ledger: Path, count: int) -> str:
    done = subprocess.run(
        [sys.executable, "-c", APPEND, str(ledger), str(tmp / "key"), str(count)],
        env=cli_env(tmp),
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, Path]:
    """A ledger of 300 records published, then grown to 320 and published again."""
    tmp = tmp_path_factory.mktemp("tiles")
    ledger, published = tmp / "ledger", tmp / "published"
    public = append(tmp, ledger, 300)
    (tmp / "trusted").write_text(f"tiles@example.org {public}\n")
    env = cli_env(tmp)
    run_cli("publish", published, "--ledger", ledger, env=env, cwd=tmp)
    first = tmp / "checkpoint-300"
    shutil.copy(published / "checkpoint", first)
    shutil.copytree(published / "tile", tmp / "tiles-300")
    append(tmp, ledger, 20)
    run_cli("publish", published, "--ledger", ledger, env=env, cwd=tmp)
    return ledger, published, first, tmp / "trusted"


def files(base: Path) -> set[str]:
    return {p.relative_to(base).as_posix() for p in (base / "tile").rglob("*") if p.is_file()}


def test_tile_paths_are_those_tlog_tiles_names(grown: tuple[Path, Path, Path, Path]) -> None:
    ledger, published, _, _ = grown
    expected_now = {tile_path(0, 0, 256), tile_path(0, 1, 64), tile_path(1, 0, 1)}
    expected_now |= {tile_path("entries", 0, 256), tile_path("entries", 1, 64)}
    assert expected_now <= files(ledger)
    # Publishing keeps the partial tiles of the older checkpoint (10.10).
    assert expected_now | {tile_path(0, 1, 44), tile_path("entries", 1, 44)} <= files(published)
    assert tile_path(0, 1, 64) == "tile/0/001.p/64"
    # 10.7 step 5: the writer removed its superseded partial tiles.
    assert not {tile_path(0, 1, 44), tile_path("entries", 1, 44)} & files(ledger)


def test_full_tiles_never_change(grown: tuple[Path, Path, Path, Path]) -> None:
    ledger, published, first, _ = grown
    before = first.parent / "tiles-300"
    for level in (0, "entries"):
        path = tile_path(level, 0, 256)
        assert (before / path.removeprefix("tile/")).read_bytes() == (ledger / path).read_bytes()
        assert (published / path).read_bytes() == (ledger / path).read_bytes()


def test_the_grown_log_and_its_older_checkpoint_verify(
    grown: tuple[Path, Path, Path, Path], tmp_path: Path
) -> None:
    ledger, published, first, trusted_file = grown
    trusted = read_allowed_signers(trusted_file)
    now = verify_log(ledger, trusted)
    assert now.checkpoint.size == 320
    assert now.tiles == 3  # tile/0/000, tile/0/001.p/64, tile/1/000.p/1
    assert verify_log(published, trusted, published=True, since=first).checkpoint == now.checkpoint
    # A client holding the older checkpoint still finds every tile it needs.
    older = tmp_path / "older"
    shutil.copytree(published, older)
    shutil.copy(first, older / "checkpoint")
    assert verify_log(older, trusted, published=True).checkpoint.size == 300
    # 10.4: without its partial tiles, a reader takes the first W of a wider one.
    for level in (0, "entries"):
        (older / tile_path(level, 1, 44)).unlink()
    assert verify_log(older, trusted, published=True).checkpoint.size == 300


def test_a_flipped_level_one_hash_is_found(
    grown: tuple[Path, Path, Path, Path], tmp_path: Path
) -> None:
    ledger, _, _, trusted_file = grown
    copy = tmp_path / "ledger"
    shutil.copytree(ledger, copy)
    tile = copy / tile_path(1, 0, 1)
    tile.write_bytes(bytes([tile.read_bytes()[0] ^ 1]) + tile.read_bytes()[1:])
    with pytest.raises(SpecError, match="tile/1/000.p/1: hashes differ"):
        verify_log(copy, read_allowed_signers(trusted_file))
