"""Attack: a key holder signs a record whose JSON parses only by stretching JSON: an integer of
5,000 digits (Python's integer digit limit raised an internal error), ``1e999`` (Infinity
without its name, which the NaN/Infinity check let through), a timestamp of the right shape
that names no real moment (February 30th, 25:61: an internal error in the trust walk), and a
repeated member. Each is refused by ``verify`` in one line naming the record, and ``log`` and
``show`` refuse it the same way instead of displaying a value the verifier would not accept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.attacks.cli import refused, run_cli
from tests.attacks.forge import append_raw, canonical_text, next_record
from tests.ledger.helpers import Signer
from tests.ledger2.helpers import copied_v2

SPOILED: dict[str, tuple[Callable[[str], str], str]] = {
    "long-integer": (
        lambda text: text.replace('"note":"x"', '"note":' + "9" * 5000),
        "record is not valid JSON (an integer of more than 4300 digits)",
    ),
    "overflowing-float": (
        lambda text: text.replace('"note":"x"', '"note":1e999'),
        "record is not valid JSON (number 1e999 is beyond the range of a double)",
    ),
    "float-of-400-digits": (
        lambda text: text.replace('"note":"x"', '"note":' + "1" * 400 + ".5"),
        "record is not valid JSON (number 11111111111111111111... is beyond the range of a double)",
    ),
    "no-such-day": (
        lambda text: text.replace("2026-01-02T03:04:05", "2026-02-30T25:61:05"),
        "timestamp '2026-02-30T25:61:05.000000Z' is not a valid UTC date and time",
    ),
    "repeated-member": (
        lambda text: text.replace('"kind":"gate"', '"kind":"gate","kind":"audit"'),
        "record is not valid JSON (duplicate key 'kind')",
    ),
}


@pytest.mark.parametrize("attack", sorted(SPOILED))
def test_attack_signed_record_that_stretches_json(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, attack: str
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    spoil, reason = SPOILED[attack]
    text = spoil(canonical_text(next_record(ledger, signer, "gate", {"note": "x"})))
    timestamp = "2026-02-30T25:61:05.000000Z" if attack == "no-such-day" else None
    append_raw(
        ledger,
        signer,
        text.encode(),
        kind="gate",
        timestamp=timestamp or "2026-01-02T03:04:05.000000Z",
    )
    trusted = Signer.allowed_signers(signer, tmp_path / "allowed_signers")
    said = refused(run_cli("verify", "--ledger", ledger, "--trusted-keys", trusted))
    assert said == f"{ledger} record 3: {reason}", said
    if attack != "no-such-day":  # log and show read records, not the trust walk's times
        for command in (["log"], ["show", "3"]):
            done = run_cli(*command, ledger=ledger)
            assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
            assert done.stderr.strip() == (
                f"bias-ledger: error: {ledger} record 3: {reason}; run 'bias-ledger verify'"
            )
