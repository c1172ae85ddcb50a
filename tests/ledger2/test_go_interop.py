"""Go's reference golang.org/x/mod/sumdb/note and sumdb/tlog (no code shared with ours) accept
our checkpoints, proofs and tiles, and reject tampered ones."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bias_ledger.ledger import note
from bias_ledger.ledger.tlog_read import read_signed_checkpoint
from bias_ledger.ledger.tlog_source import DirectorySource
from tests.ledger.helpers import cli_env, run_cli
from tests.ledger2.helpers import copied_v2

GO_SOURCE = Path(__file__).resolve().parents[1] / "interop" / "go" / "tlogcheck"
GOPATH = "/usr/share/gocode"

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed"),
]


@pytest.fixture(scope="module")
def tlogcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the checker offline against Debian's golang-golang-x-mod-dev sources."""
    if not (Path(GOPATH) / "src/golang.org/x/mod/sumdb/tlog").is_dir():
        pytest.fail(f"{GOPATH}: golang-golang-x-mod-dev is not installed")
    out = tmp_path_factory.mktemp("go") / "tlogcheck"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": GOPATH,
        "GOCACHE": str(out.parent / "cache"),
        "GOFLAGS": "",
    }
    subprocess.run(
        ["go", "build", "-o", str(out), "."], cwd=GO_SOURCE, env=env, check=True, timeout=300
    )
    return out


def _run(tool: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tool), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_go_accepts_our_checkpoint_proofs_and_tiles(
    tlogcheck: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 300)
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger), BIAS_LEDGER_KEY=str(signer.path))
    shown = run_cli("key", "show", "--note-key", env=env)
    assert shown.returncode == 0, shown.stderr
    vkey = shown.stdout.strip()
    _, checkpoint = read_signed_checkpoint(DirectorySource(ledger))
    assert vkey == note.note_verifier(checkpoint.origin, signer.key.public_key()).verifier_key()
    opened = _run(tlogcheck, "checkpoint", vkey, ledger / "checkpoint")
    assert opened.returncode == 0, opened.stdout
    assert opened.stdout.split()[2:4] == [checkpoint.origin, "300"]
    for index, size in ((0, 1), (255, 256), (256, 300), (299, 300)):
        proof = run_cli("proof", "inclusion", str(index), "--size", str(size), "--json", env=env)
        (tmp_path / "inclusion.json").write_text(proof.stdout)
        checked = _run(tlogcheck, "inclusion", tmp_path / "inclusion.json")
        assert checked.returncode == 0, checked.stdout
    proof = run_cli("proof", "consistency", "7", "300", "--json", env=env)
    (tmp_path / "consistency.json").write_text(proof.stdout)
    checked = _run(tlogcheck, "consistency", tmp_path / "consistency.json")
    assert checked.returncode == 0, checked.stdout
    tiles = _run(tlogcheck, "tiles", vkey, ledger)
    assert tiles.returncode == 0, tiles.stdout
    assert tiles.stdout.startswith(f"ok tiles {checkpoint.origin} 300 ")

    # Tampered inputs: Go refuses each of them.
    document = json.loads((tmp_path / "consistency.json").read_text())
    document["proof"][0], document["proof"][1] = document["proof"][1], document["proof"][0]
    (tmp_path / "bad.json").write_text(json.dumps(document))
    assert _run(tlogcheck, "consistency", tmp_path / "bad.json").returncode == 1
    document = json.loads(proof.stdout)
    document["old_size"] = 8
    (tmp_path / "bad.json").write_text(json.dumps(document))
    assert _run(tlogcheck, "consistency", tmp_path / "bad.json").returncode == 1
    inclusion = json.loads((tmp_path / "inclusion.json").read_text())
    inclusion["index"] = 298
    (tmp_path / "bad.json").write_text(json.dumps(inclusion))
    assert _run(tlogcheck, "inclusion", tmp_path / "bad.json").returncode == 1
    signed = (ledger / "checkpoint").read_text()
    (tmp_path / "bad_checkpoint").write_text(signed.replace("\n300\n", "\n299\n"))
    refused = _run(tlogcheck, "checkpoint", vkey, tmp_path / "bad_checkpoint")
    assert refused.returncode == 1 and "invalid signature" in refused.stdout
    tile = ledger / "tile/0/000"
    data = bytearray(tile.read_bytes())
    data[31] ^= 0x80
    tile.write_bytes(bytes(data))
    assert _run(tlogcheck, "tiles", vkey, ledger).returncode == 1
