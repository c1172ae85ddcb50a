"""Attack: a file of a format-2 ledger (or of a published directory) replaced by something that
is not a regular file: a FIFO (opening it would wait for a writer forever), a link to a
character device (``/dev/zero`` never ends) or a directory. A format-2 verifier follows links
(every file is checked by content), but whatever it opens must be a regular file: each is
refused in one line naming the file, never a hang."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.attacks.cli import attack_env, refused
from tests.ledger import helpers
from tests.ledger.helpers import Signer
from tests.ledger2.helpers import copied_v2


def _first_record(ledger: Path) -> str:
    return "records/" + sorted(p.name for p in (ledger / "records").iterdir())[0]


FILES: dict[str, Callable[[Path], str]] = {
    "record": _first_record,
    "checkpoint": lambda ledger: "checkpoint",
    "hash tile": lambda ledger: "tile/0/000.p/3",
    "entry bundle": lambda ledger: "tile/entries/000.p/3",
}


WHAT = {"fifo": "a FIFO (named pipe)", "device": "a character device", "directory": "a directory"}


@pytest.mark.parametrize("published", [False, True], ids=["ledger", "published"])
@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
@pytest.mark.parametrize("which", sorted(FILES))
def test_attack_log_file_that_is_not_a_regular_file(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    which: str,
    kind: str,
    published: bool,
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    if published:  # what 'publish' leaves: the log's files only
        (ledger / "ledger.json").unlink()
        (ledger / "lock").unlink(missing_ok=True)
    relative = FILES[which](ledger)
    target = ledger / relative
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        target.symlink_to("/dev/zero")
    else:
        target.mkdir()
    trusted = Signer.allowed_signers(signer, tmp_path / "allowed_signers")
    where = [ledger] if published else ["--ledger", ledger]
    done = helpers.run_cli(
        "verify", *where, "--trusted-keys", trusted, env=attack_env(), timeout=60
    )
    if published and which == "checkpoint":
        # not recognised as a published log at all (its checkpoint is no file): a usage error
        assert done.returncode == 2 and "nor a published log" in done.stderr, done.stderr
        return
    assert refused(done) == f"{target}: is {WHAT[kind]}, expected a regular file"
