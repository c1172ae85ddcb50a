"""Witness policies: which witnesses' cosignatures a checkpoint needs, and how many.

A text file, one statement per line (``#`` starts a comment; blank lines are ignored)::

    witness <name> <cosignature verifier key>
    quorum <k>
    max_age <n>s|m|h|d        (optional)

A checkpoint counts only when at least ``k`` of the listed witnesses cosigned it validly (and,
with ``max_age``, no longer ago than that by the verifier's clock: a cosignature proves that the
witness saw the checkpoint then, not that it is still the latest, so only a bound on its age
stops a restored older state of the log, its old cosignatures valid, from passing).
On the verifier's trusted path: the standard library, cryptography and ``note.py`` only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger.digits import is_digits
from bias_ledger.ledger.files import read_regular
from bias_ledger.ledger.note import (
    COSIGNATURE_V1,
    NoteSignature,
    NoteVerifier,
    cosignature_timestamp,
    parse_note,
    parse_verifier_key,
)
from bias_ledger.ledger.tlog_checkpoint import parse_checkpoint


@dataclass(frozen=True)
class PolicyWitness:
    """A witness a policy trusts."""

    name: str
    """The policy's name for it (reports use it)."""
    verifier: NoteVerifier
    """Its cosignature/v1 verifier key."""


@dataclass(frozen=True)
class WitnessPolicy:
    """The witnesses trusted to cosign and the quorum of them a checkpoint needs."""

    witnesses: tuple[PolicyWitness, ...]
    """The trusted witnesses, in file order."""
    quorum: int
    """How many of them must have cosigned (1 <= quorum <= len(witnesses))."""
    max_age: int | None = None
    """``max_age``: the oldest a cosignature may be, in seconds, to count; None: any age."""


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CLOCK_SKEW = 300
"""With ``max_age``: how far (seconds) a cosignature may be dated ahead of the verifier's clock
and count. One dated later would count as fresh until that date plus ``max_age``: a witness
whose clock runs ahead would switch the bound off."""


def _max_age(fields: list[str], where: str) -> int:
    expected = f"{where}: expected 'max_age <n>s|m|h|d' (such as 'max_age 24h')"
    if len(fields) != 2 or len(fields[1]) < 2:
        raise InputError(expected)
    digits, unit = fields[1][:-1], fields[1][-1]
    if unit not in _UNITS or not digits.isascii() or not digits.isdecimal() or len(digits) > 9:
        raise InputError(expected)
    seconds = int(digits) * _UNITS[unit]
    if seconds == 0:
        raise InputError(f"{where}: expected a max_age above 0")
    return seconds


def _witness(fields: list[str], where: str) -> PolicyWitness:
    if len(fields) != 3:
        raise InputError(f"{where}: expected 'witness <name> <verifier key>'")
    try:
        verifier = parse_verifier_key(fields[2])
    except VerificationError as exc:
        raise InputError(f"{where}: {exc.message}") from exc
    if verifier.signature_type != COSIGNATURE_V1:
        raise InputError(f"{where}: expected a cosignature/v1 key (type 0x04)")
    return PolicyWitness(fields[1], verifier)


def parse_witness_policy(text: str, source: str) -> WitnessPolicy:
    """Parse a witness policy file's text; ``source`` names it in errors."""
    witnesses: list[PolicyWitness] = []
    quorum: int | None = None
    max_age: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        where = f"{source}:{number}"
        fields = raw.split("#", 1)[0].split()
        if not fields:
            continue
        if fields[0] == "witness":
            witness = _witness(fields, where)
            if any(w.name == witness.name for w in witnesses):
                raise InputError(f"{where}: witness {witness.name!r} is listed twice")
            # By the public key alone: a cosignature/v1 signature does not cover the key's
            # name, so one key listed under two names would let one holder count twice.
            if any(w.verifier.public_key == witness.verifier.public_key for w in witnesses):
                raise InputError(
                    f"{where}: the public key of {witness.name!r} is listed twice; expected each "
                    "witness key once (tlog-cosignature: a key is one cosigner)"
                )
            witnesses.append(witness)
        elif fields[0] == "quorum":
            if quorum is not None:
                raise InputError(f"{where}: expected one quorum line, found another")
            if len(fields) != 2 or not is_digits(fields[1]):
                raise InputError(f"{where}: expected 'quorum <positive integer>'")
            if len(fields[1]) > 9:  # int() of thousands of digits raises; no policy lists more
                raise InputError(
                    f"{where}: expected 'quorum <positive integer>' of at most the witnesses "
                    f"listed, got {len(fields[1])} digits"
                )
            quorum = int(fields[1])
        elif fields[0] == "max_age":
            if max_age is not None:
                raise InputError(f"{where}: expected one max_age line, found another")
            max_age = _max_age(fields, where)
        else:
            raise InputError(
                f"{where}: expected 'witness', 'quorum' or 'max_age', got {fields[0]!r}"
            )
    if not witnesses:
        raise InputError(f"{source}: expected at least one 'witness' line")
    if quorum is None or not 1 <= quorum <= len(witnesses):
        raise InputError(
            f"{source}: expected a 'quorum' line between 1 and {len(witnesses)} (the witnesses)"
        )
    return WitnessPolicy(tuple(witnesses), quorum, max_age)


def load_witness_policy(path: Path) -> WitnessPolicy:
    """Read and parse a witness policy file (``verify --witnesses FILE``)."""
    try:
        text = read_regular(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the witness policy: {exc}") from exc
    return parse_witness_policy(text, str(path))


@dataclass(frozen=True)
class Cosignature:
    """One witness's cosignature on a checkpoint, as a verification report lists it."""

    witness: str
    """The policy's name for the witness, or the signature line's key name without a policy."""
    key: str
    """The witness's verifier key (``name+id+base64``; public), or ``name+id`` when unknown."""
    status: str
    """``valid``, ``invalid``, ``absent`` (a policy witness that did not cosign), ``stale``
    (valid, but older than the policy's ``max_age``), ``future`` (valid, but with ``max_age``
    dated more than :data:`CLOCK_SKEW` ahead of the verifier's clock) or ``not checked`` (no
    policy names the key)."""
    timestamp: int | None = None
    """The time the cosignature states (POSIX seconds), when it has one."""

    def to_json(self) -> dict[str, str | int | None]:
        return {
            "witness": self.witness,
            "key": self.key,
            "status": self.status,
            "timestamp": self.timestamp,
        }


def _timestamp(line: NoteSignature) -> int | None:
    try:
        return cosignature_timestamp(line)
    except VerificationError:
        return None


def _status(valid: bool, timestamp: int | None, policy: WitnessPolicy, now: float) -> str:
    if not valid:
        return "invalid"
    if policy.max_age is None:
        return "valid"
    if timestamp is None or now - timestamp > policy.max_age:
        return "stale"
    return "future" if timestamp - now > CLOCK_SKEW else "valid"


def list_cosignatures(
    checkpoint_note: bytes,
    policy: WitnessPolicy | None,
    *,
    log_name: str,
    now: float | None = None,
) -> list[Cosignature]:
    """Every cosignature the note carries, and each policy witness's, checked against the
    policy when one is given (its ``max_age`` at ``now``, POSIX seconds, default the clock's).
    ``log_name`` (the origin) names the log's own signature, which is not a cosignature and is
    left out."""
    at = time.time() if now is None else now
    note = parse_note(checkpoint_note, "checkpoint")
    found: list[Cosignature] = []
    listed: set[tuple[str, int]] = set()
    for witness in policy.witnesses if policy is not None else ():
        verifier = witness.verifier
        slot = (verifier.name, verifier.key_id)
        listed.add(slot)
        lines = [sig for sig in note.signatures if (sig.name, sig.key_id) == slot]
        if not lines:
            found.append(Cosignature(witness.name, verifier.verifier_key(), "absent"))
        for line in lines:
            stamp = _timestamp(line)
            assert policy is not None
            status = _status(verifier.verify(note.text, line.signature), stamp, policy, at)
            key = verifier.verifier_key()
            found.append(Cosignature(witness.name, key, status, stamp))
    found += [
        Cosignature(line.name, line.key(), "not checked", _timestamp(line))
        for line in note.signatures
        if line.name != log_name and (line.name, line.key_id) not in listed
    ]
    return found


def check_witness_quorum(
    checkpoint_note: bytes, policy: WitnessPolicy, *, now: float | None = None
) -> list[str]:
    """The names of the policy's witnesses that validly cosigned the checkpoint note (within
    the policy's ``max_age`` of ``now``, default the clock's).

    Raises :class:`VerificationError` when a policy witness's cosignature is invalid or fewer
    than the quorum cosigned (stale cosignatures do not count). The log's own signature is the
    caller's to check.
    """
    note = parse_note(checkpoint_note, "checkpoint")
    checkpoint = parse_checkpoint(note.text)
    what = f"checkpoint of {checkpoint.origin} at size {checkpoint.size}"
    cosigned: list[str] = []
    stale: list[str] = []
    future: list[str] = []
    listed = list_cosignatures(checkpoint_note, policy, log_name=checkpoint.origin, now=now)
    for item in listed:
        for status, names in (("stale", stale), ("future", future)):
            if item.status == status and item.witness not in names:
                names.append(item.witness)
        if item.status == "invalid":
            raise VerificationError(f"{what}: invalid cosignature by witness {item.witness}")
        if item.status == "valid" and item.witness not in cosigned:
            cosigned.append(item.witness)
    if len(cosigned) < policy.quorum:
        missing = [w.name for w in policy.witnesses if w.name not in cosigned]
        raise VerificationError(
            f"{what}: expected cosignatures by at least {policy.quorum} of the policy's "
            f"witnesses, got {len(cosigned)} ({', '.join(cosigned) or 'none'}); "
            f"missing: {', '.join(missing)}{_stale(stale, cosigned, policy)}"
            f"{_future(future, cosigned)}"
        )
    return cosigned


def _future(future: list[str], cosigned: list[str]) -> str:
    """Which witnesses' cosignatures were dated too far ahead of the clock to count, or ``""``."""
    ahead = [name for name in future if name not in cosigned]
    if not ahead:
        return ""
    return (
        f"; dated more than {CLOCK_SKEW} s ahead of this clock: {', '.join(ahead)} (its clock, "
        "or this one, is wrong: with max_age such a cosignature would count as fresh for "
        "longer than max_age)"
    )


def _stale(stale: list[str], cosigned: list[str], policy: WitnessPolicy) -> str:
    """Which witnesses' cosignatures were too old to count (a restored older state of the log
    carries the cosignatures of its time), or ``""``."""
    old = [name for name in stale if name not in cosigned]
    if not old or policy.max_age is None:
        return ""
    return (
        f"; older than the policy's max_age of {policy.max_age} s: {', '.join(old)} (a rolled-back "
        "log, or one whose checkpoint was not pushed to its witnesses lately: "
        "'bias-ledger witness push')"
    )
