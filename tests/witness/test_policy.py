"""Witness policy files and the quorum check that verify and bundles rely on."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger.note import (
    COSIGNATURE_V1,
    NoteSignature,
    cosign_text,
    note_verifier,
    parse_note,
    sign_note,
    with_signatures,
)
from bias_ledger.ledger.tlog_checkpoint import Checkpoint
from bias_ledger.witness.policy import (
    check_witness_quorum,
    list_cosignatures,
    parse_witness_policy,
)

# Fixed keys: parametrize ids contain them, and pytest-xdist needs the same ids in each worker.
LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes([9]) * 32)
ORIGIN = "example.com/audits"
TEXT = Checkpoint(ORIGIN, 12, bytes(range(32))).text()
KEYS = {
    name: Ed25519PrivateKey.from_private_bytes(bytes([number]) * 32)
    for number, name in enumerate(("w1", "w2", "w3"), start=1)
}


def vkey(name: str) -> str:
    return note_verifier(f"{name}.example", KEYS[name].public_key(), COSIGNATURE_V1).verifier_key()


def cosig(name: str, text: str = TEXT) -> NoteSignature:
    return cosign_text(text, f"{name}.example", KEYS[name], 1_700_000_000)


def note(*cosignatures: NoteSignature) -> bytes:
    return with_signatures(parse_note(sign_note(TEXT, ORIGIN, LOG_KEY)), cosignatures).encode()


def policy_text(quorum: int, *names: str) -> str:
    return "".join(f"witness {n} {vkey(n)}  # {n}\n" for n in names) + f"\nquorum {quorum}\n"


def test_quorum_counts_valid_cosignatures_of_listed_witnesses_only() -> None:
    policy = parse_witness_policy(policy_text(2, "w1", "w2", "w3"), "p")
    stranger = cosign_text(TEXT, "w9.example", Ed25519PrivateKey.generate(), 1)
    cosigned = note(cosig("w3"), stranger, cosig("w1"), cosig("w1"))
    assert check_witness_quorum(cosigned, policy) == ["w1", "w3"]
    with pytest.raises(VerificationError, match=r"at least 2 .* got 1 \(w2\); missing: w1, w3"):
        check_witness_quorum(note(cosig("w2"), stranger), policy)
    with pytest.raises(VerificationError, match=r"got 0 \(none\)"):
        check_witness_quorum(note(), policy)


def test_a_cosignature_of_another_checkpoint_is_invalid() -> None:
    policy = parse_witness_policy(policy_text(1, "w1", "w2"), "p")
    other = Checkpoint(ORIGIN, 13, bytes(32)).text()
    with pytest.raises(VerificationError, match="invalid cosignature by witness w2"):
        check_witness_quorum(note(cosig("w1"), cosig("w2", other)), policy)


def test_the_log_key_as_a_witness_key_is_not_a_cosignature() -> None:
    as_witness = note_verifier(ORIGIN, LOG_KEY.public_key(), COSIGNATURE_V1).verifier_key()
    policy = parse_witness_policy(f"witness self {as_witness}\nquorum 1\n", "p")
    with pytest.raises(VerificationError, match="got 0"):
        check_witness_quorum(note(), policy)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("quorum 1\n", "at least one 'witness' line"),
        (policy_text(0, "w1"), "between 1 and 1"),
        (policy_text(3, "w1", "w2"), "between 1 and 2"),
        (policy_text(1, "w1").replace("quorum 1", "quorum one"), "quorum <positive integer>"),
        (policy_text(1, "w1") + "quorum 1\n", "one quorum line"),
        (policy_text(1, "w1").replace("quorum 1", "quorum " + "9" * 5000), "got 5000 digits"),
        (policy_text(1, "w1", "w1"), "listed twice"),
        (
            policy_text(1, "w1") + f"witness again {vkey('w1')}\n",
            "public key of 'again' is listed twice",
        ),
        ("witness w1\nquorum 1\n", "witness <name> <verifier key>"),
        (policy_text(1, "w1") + "log example.com x\n", "expected 'witness', 'quorum' or 'max_age'"),
        (
            f"witness log {note_verifier('a', LOG_KEY.public_key()).verifier_key()}\nquorum 1\n",
            "type 0x04",
        ),
        (policy_text(1, "w1").replace(vkey("w1")[-6:], "AAAAA="), "p:1"),
    ],
)
def test_malformed_policies_name_the_line(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_witness_policy(text, "p")


def test_attack_one_key_under_two_names_cannot_meet_a_quorum_of_two() -> None:
    """cosignature/v1 signs no key name: one holder of one key could cosign under two names."""
    other_name = note_verifier("alias.example", KEYS["w1"].public_key(), COSIGNATURE_V1)
    text = f"witness w1 {vkey('w1')}\nwitness alias {other_name.verifier_key()}\nquorum 2\n"
    with pytest.raises(InputError, match=r"p:2: the public key of 'alias' is listed twice"):
        parse_witness_policy(text, "p")
    # Without the check, both lines would verify: the same signature under either name.
    twice = note(cosig("w1"), cosign_text(TEXT, "alias.example", KEYS["w1"], 1_700_000_000))
    single = parse_witness_policy(f"witness alias {other_name.verifier_key()}\nquorum 1\n", "p")
    assert check_witness_quorum(twice, single) == ["alias"]


def test_the_quorum_check_stays_on_the_trusted_path() -> None:
    """verify --witnesses runs it: the standard library, cryptography and our note code only."""
    code = "import sys, bias_ledger.witness.policy; print(' '.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    third_party = {
        name
        for name in loaded - set(sys.stdlib_module_names)
        if not name.startswith("_") or name in {"_cffi_backend", "_openssl"}
    }
    assert third_party <= {"bias_ledger", "cryptography", "_cffi_backend", "_openssl", "bcrypt"}
    ours = {name for name in done.stdout.split() if name.startswith("bias_ledger.")}
    assert ours <= {
        "bias_ledger._version",  # the package root's one import
        "bias_ledger.errors",
        "bias_ledger.ledger",
        "bias_ledger.ledger.digits",  # the quorum's digits: standard library only
        "bias_ledger.ledger.files",
        "bias_ledger.ledger.note",
        "bias_ledger.ledger.tlog_checkpoint",
        "bias_ledger.witness",
        "bias_ledger.witness.policy",
    }, ours


def test_max_age_counts_only_cosignatures_young_enough_at_the_verifiers_clock() -> None:
    policy = parse_witness_policy(policy_text(1, "w1", "w2") + "max_age 2h\n", "p")
    assert policy.max_age == 7200
    stamped = 1_700_000_000  # cosig()'s timestamp
    cosigned = note(cosig("w1"))
    assert check_witness_quorum(cosigned, policy, now=stamped + 7200) == ["w1"]
    with pytest.raises(VerificationError, match=r"max_age of 7200 s: w1 \(a rolled-back log"):
        check_witness_quorum(cosigned, policy, now=stamped + 7201)
    # Without max_age, any age counts (a cosignature proves the witness saw it, not when).
    no_bound = parse_witness_policy(policy_text(1, "w1", "w2"), "p")
    assert check_witness_quorum(cosigned, no_bound, now=stamped + 10**9) == ["w1"]


@pytest.mark.parametrize(
    "line", ["max_age", "max_age 24", "max_age 0h", "max_age 1w", "max_age ２h", "max_age 1h 2h"]
)
def test_a_malformed_max_age_is_an_input_error_naming_the_line(line: str) -> None:
    with pytest.raises(InputError, match=r"^p:4: expected "):
        parse_witness_policy(policy_text(1, "w1") + line + "\n", "p")
    twice = policy_text(1, "w1") + "max_age 1h\nmax_age 2h\n"
    with pytest.raises(InputError, match="expected one max_age line"):
        parse_witness_policy(twice, "p")


def test_with_max_age_a_cosignature_dated_ahead_of_the_clock_does_not_count() -> None:
    policy = parse_witness_policy(policy_text(1, "w1") + "max_age 1h\n", "p")
    stamped = 1_700_000_000
    cosigned = note(cosig("w1"))
    assert check_witness_quorum(cosigned, policy, now=stamped - 300) == ["w1"]  # small skew
    with pytest.raises(VerificationError, match=r"more than 300 s ahead of this clock: w1"):
        check_witness_quorum(cosigned, policy, now=stamped - 301)
    found = list_cosignatures(cosigned, policy, log_name=ORIGIN, now=stamped - 10**6)
    assert [item.status for item in found] == ["future"]
