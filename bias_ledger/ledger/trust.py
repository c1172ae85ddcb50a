"""Trusted signing keys: OpenSSH allowed_signers files (as git uses them) and bare fingerprints.

See ssh-keygen(1), section ALLOWED SIGNERS, for the format this module reads.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import KeyFileError, VerificationError
from bias_ledger.ledger.files import read_regular
from bias_ledger.ledger.keys import KEY_TYPE, fingerprint, public_key_from_blob
from bias_ledger.ledger.sshsig import NAMESPACE

_FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")
_KEY_TYPE = re.compile(r"(ssh-|ecdsa-|sk-|rsa-)[A-Za-z0-9@.-]+")
_TIME = re.compile(r"([0-9]{8})([0-9]{4}([0-9]{2})?)?(Z?)")  # ASCII digits, as OpenSSH reads
_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)
_CYCLE = timedelta(days=146_097)
"""400 Gregorian years: after them the calendar, weekdays included, repeats exactly."""
_OPTIONS = frozenset({"cert-authority", "namespaces", "valid-after", "valid-before"})


@dataclass(frozen=True)
class TrustedKey:
    """One key trusted to sign bias-ledger records and checkpoints."""

    fingerprint: str
    """``SHA256:`` fingerprint of the key, as ``ssh-keygen -l`` prints it."""
    principals: str
    """Who the key belongs to: the allowed_signers principals field, or ``""``."""
    public_key: Ed25519PublicKey | None = None
    """The key itself; None when only its fingerprint was given."""
    valid_after: datetime | None = None
    """The key is trusted only for signatures made after this time, when set."""
    valid_before: datetime | None = None
    """The key is trusted only for signatures made before this time, when set."""
    origin: str = ""
    """Where the key was listed, ``file:line``, for messages."""

    def valid_at(self, when: datetime) -> bool:
        """Whether ``when`` (an aware datetime) lies within the key's validity interval."""
        after = self.valid_after is None or when >= self.valid_after
        return after and (self.valid_before is None or when < self.valid_before)


@dataclass(frozen=True)
class TrustedKeys:
    """The set of keys a verification trusts, by fingerprint."""

    keys: Mapping[str, TrustedKey]
    """Trusted keys by fingerprint."""
    source: str
    """What the set was read from (a file name or ``--trusted-key``), for messages."""
    notes: tuple[str, ...] = field(default=())
    """Lines that were skipped and why (other key types, other namespaces, CAs)."""

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyFileError(
                f"{self.source}: expected at least one {KEY_TYPE} key trusted for namespace "
                f"{NAMESPACE!r}, found none" + (f" ({self.notes[0]})" if self.notes else "")
            )
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    def __contains__(self, fingerprint_: object) -> bool:
        return fingerprint_ in self.keys

    def __iter__(self) -> Iterator[TrustedKey]:
        return iter(self.keys.values())

    def __len__(self) -> int:
        return len(self.keys)

    def require(
        self, public_key: Ed25519PublicKey, *, what: str, at: datetime | None = None
    ) -> TrustedKey:
        """Return the entry trusting ``public_key``, or raise :class:`VerificationError`.

        ``what`` names the signed thing in the message; ``at`` is when it claims to be signed.
        """
        found = fingerprint(public_key)
        entry = self.keys.get(found)
        if entry is None:
            raise VerificationError(
                f"{what}: expected a signature by a key trusted in {self.source}, "
                f"got one by untrusted key {found}"
            )
        if at is not None and not entry.valid_at(at):
            raise VerificationError(
                f"{what}: key {found} ({entry.origin}) is trusted from {entry.valid_after} "
                f"until {entry.valid_before}, but the signature claims {at.isoformat()}"
            )
        return entry

    @classmethod
    def from_fingerprints(
        cls, fingerprints: Iterable[str], *, source: str = "--trusted-key"
    ) -> TrustedKeys:
        """Trust the keys with these ``SHA256:...`` fingerprints."""
        keys: dict[str, TrustedKey] = {}
        for value in fingerprints:
            text = value.strip()
            if not _FINGERPRINT.fullmatch(text) or len(_unbase64(text[7:] + "=")) != 32:
                raise KeyFileError(
                    f"{source}: expected a key fingerprint like SHA256:<43 base64 characters>, "
                    f"got {_shown(value)}"
                )
            keys[text] = TrustedKey(text, "", origin=source)
        return cls(keys, source)


def _shown(value: str) -> str:
    # What was passed is echoed only when it is short and plain: a key pasted by mistake (an
    # OpenSSH private or public key is long) must never reach a message or a CI log.
    if len(value) <= 60 and value.isascii() and value.isprintable() and " " not in value:
        return repr(value)
    return f"a value of {len(value)} characters (not shown)"


def _unbase64(text: str) -> bytes:
    # Non-ASCII text raises ValueError rather than binascii.Error; both mean "not base64".
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _tokens(line: str) -> list[str]:
    """Split on whitespace outside double quotes; quotes are kept for the option parser."""
    tokens, current, quoted = [], "", False
    for char in line:
        if char == '"':
            quoted = not quoted
        if char.isspace() and not quoted:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
    if quoted:
        raise ValueError("expected a closing double quote")
    return [*tokens, current] if current else tokens


def _pattern_list_matches(patterns: str, value: str) -> bool:
    """OpenSSH pattern-list semantics: ``*`` and ``?`` wildcards, ``!`` negates and wins."""
    matched = False
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        regex = re.escape(pattern.lstrip("!")).replace(r"\*", ".*").replace(r"\?", ".")
        if re.fullmatch(regex, value):
            if negated:
                return False
            matched = True
    return matched


def _time(value: str) -> datetime:
    """The moment an allowed_signers time names, in UTC.

    As ssh-keygen(1) says (ALLOWED SIGNERS): a time with a trailing ``Z`` is UTC, any other is
    in the system's local time zone. A local time in year 1 or 9999 is converted 400 years
    inward and moved back, as converting it in place leaves ``datetime``'s range on the way
    (OverflowError in UTC-10, ValueError in UTC+14). The offset found there is the moment's
    own: the calendar repeats after 400 years, and no zone's offset differs between the two
    (before a zone's first transition, in the 1800s, its first offset holds; after its last,
    its yearly rule repeats). A moment beyond either end of the range (``99991231235959`` west
    of UTC) comes back as that end, ``datetime.min`` or ``datetime.max`` in UTC, which
    :func:`_bounds` reads as "no bound" or "never valid".
    """
    match = _TIME.fullmatch(value)
    if not match:
        raise ValueError(f"expected a time YYYYMMDD[HHMM[SS]][Z], got {value!r}")
    digits = match.group(1) + (match.group(2) or "0000") + ("" if match.group(3) else "00")
    parsed = datetime.strptime(digits, "%Y%m%d%H%M%S")
    if match.group(4):
        return parsed.replace(tzinfo=UTC)
    shift = _CYCLE if parsed.year > 9998 else -_CYCLE if parsed.year < 2 else timedelta(0)
    moment = (parsed - shift).astimezone(UTC)
    try:
        return moment + shift
    except OverflowError:
        return _LAST if shift > timedelta(0) else _FIRST


def _bounds(
    after: str | None, before: str | None
) -> tuple[datetime | None, datetime | None] | None:
    """The key's validity interval in UTC (None: unbounded on that side), or None when no
    moment this tool can hold lies in it: a record's time is a ``datetime``, so a valid-after
    beyond its range is never reached (the line trusts nothing), and a valid-before beyond
    it bounds nothing (every record's time is before it); likewise at the other end."""
    start = _time(after) if after else None
    end = _time(before) if before else None
    if start == _LAST or end == _FIRST:
        return None
    return (None if start == _FIRST else start), (None if end == _LAST else end)


def _options(text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for item in re.findall(r'(?:[^,"]|"[^"]*")+', text):
        name, _, value = item.partition("=")
        if name not in _OPTIONS:
            raise ValueError(f"expected an option among {', '.join(sorted(_OPTIONS))}, got {name}")
        options[name] = value[1:-1] if value.startswith('"') and value.endswith('"') else value
    return options


def _parse_line(line: str, origin: str) -> TrustedKey | str:
    """Return the key a line trusts, or a note saying why the line trusts nothing."""
    tokens = _tokens(line)
    if len(tokens) < 3:
        raise ValueError("expected 'principals [options] keytype base64-key [comment]'")
    principals, rest = tokens[0].strip('"'), tokens[1:]
    options = {} if _KEY_TYPE.fullmatch(rest[0]) else _options(rest.pop(0))
    if len(rest) < 2:
        raise ValueError("expected a key type and a base64 key after the principals")
    key_type, key_text = rest[0], rest[1]
    if "cert-authority" in options:
        return f"{origin}: cert-authority keys are not supported, line ignored"
    if key_type != KEY_TYPE:
        return f"{origin}: {key_type} key ignored, bias-ledger signatures are {KEY_TYPE}"
    blob = _unbase64(key_text)
    if not blob:
        raise ValueError("the key is not valid base64")
    public_key = public_key_from_blob(blob, source=origin)
    found = fingerprint(public_key)
    namespaces = options.get("namespaces")
    if namespaces is not None and not _pattern_list_matches(namespaces, NAMESPACE):
        return f"{origin}: key {found} is restricted to namespaces {namespaces!r}, line ignored"
    bounds = _bounds(options.get("valid-after"), options.get("valid-before"))
    if bounds is None:
        return (
            f"{origin}: key {found} is valid at no time of the years 1 to 9999 (its valid-after "
            "or valid-before lies beyond them), line ignored"
        )
    return TrustedKey(found, principals, public_key, *bounds, origin)


def parse_allowed_signers(text: str, *, source: str) -> TrustedKeys:
    """Parse an allowed_signers file's text; ``source`` names the file in messages."""
    keys: dict[str, TrustedKey] = {}
    notes: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        origin = f"{source}:{number}"
        try:
            entry = _parse_line(line, origin)
        except (ValueError, KeyFileError) as exc:
            detail = exc.message if isinstance(exc, KeyFileError) else f"{origin}: {exc}"
            raise KeyFileError(detail) from exc
        if isinstance(entry, str):
            notes.append(entry)
        elif entry.fingerprint in keys:
            first = keys[entry.fingerprint].origin
            notes.append(f"{origin}: key {entry.fingerprint} already listed at {first}, ignored")
        else:
            keys[entry.fingerprint] = entry
    return TrustedKeys(keys, source, tuple(notes))


def load_allowed_signers(path: Path) -> TrustedKeys:
    """Read and parse an allowed_signers file."""
    try:
        text = read_regular(path, error=KeyFileError).decode("utf-8")  # a FIFO cannot hang it
    except FileNotFoundError:
        raise KeyFileError(
            f"{path}: no such trusted keys file; expected an OpenSSH allowed_signers file"
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise KeyFileError(f"{path}: cannot read the trusted keys file ({reason})") from None
    except UnicodeDecodeError as exc:
        raise KeyFileError(
            f"{path}: the trusted keys file is not UTF-8 text (byte {exc.start}); expected an "
            "OpenSSH allowed_signers file"
        ) from None
    return parse_allowed_signers(text, source=str(path))
