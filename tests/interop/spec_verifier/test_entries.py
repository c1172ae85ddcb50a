"""FORMAT.md 10.3: entries are canonical; one spelled otherwise, in a log whose tiles and
checkpoint were re-signed by the log's own key (what a key holder could write), is refused."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Made, cli_env, run_cli_batch
from .forge import load_key, read_entries, write_log
from .log2 import verify_log
from .sshsig import SpecError
from .trust import read_allowed_signers


def _recode(change: Callable[[dict[str, object]], None]) -> Callable[[bytes], bytes]:
    def apply(entry: bytes) -> bytes:
        value = json.loads(entry)
        change(value)
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()

    return apply


VARIANTS: dict[str, tuple[Callable[[bytes], bytes], str | None]] = {
    "unchanged": (lambda e: e, None),
    "a space": (lambda e: e.replace(b'","', b'", "', 1), "not in canonical form"),
    "an escaped name": (lambda e: e.replace(b'"kind"', b'"\\u006bind"'), "canonical form"),
    "members unsorted": (
        lambda e: json.dumps(dict(sorted(json.loads(e).items(), reverse=True))).encode(),
        "canonical form",
    ),
    "a ninth member": (_recode(lambda v: v.update(zz=1)), "members are not exactly"),
    "index as a string": (_recode(lambda v: v.update(index="3")), "index is not an integer"),
}


def rewritten(made: Made, target: Path, case: str) -> Path:
    ledger = target / case.replace(" ", "-")
    shutil.copytree(made.ledger, ledger)
    entries = read_entries(ledger)
    entries[3] = VARIANTS[case][0](entries[3])
    write_log(ledger, entries, load_key(made.key2))
    return ledger


@pytest.mark.parametrize("case", sorted(VARIANTS))
def test_entries_must_be_canonical(made: Made, tmp_path: Path, case: str) -> None:
    ledger = rewritten(made, tmp_path, case)
    expected = VARIANTS[case][1]
    trusted = read_allowed_signers(made.trusted1)
    if expected is None:
        assert verify_log(ledger, trusted).checkpoint.size == 5
    else:
        with pytest.raises(SpecError, match=f"entry 3: .*{expected}"):
            verify_log(ledger, trusted)


def test_the_tool_agrees_on_every_spelling(made: Made, tmp_path: Path) -> None:
    cases = sorted(VARIANTS)
    trusted = ["--trusted-keys", str(made.trusted1)]
    commands = [
        ["verify", "--ledger", str(rewritten(made, tmp_path, case)), *trusted] for case in cases
    ]
    codes = run_cli_batch(commands, cli_env(tmp_path), tmp_path)
    assert codes == [0 if VARIANTS[case][1] is None else 3 for case in cases]
