"""Trust from outside (FORMAT.md section 7) and key rotations/revocations (section 4)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .sshsig import SpecError, fingerprint, wire_of_line

_TOKEN = re.compile(r'(?:[^\s"]|"[^"]*")+')
_NAMESPACES = re.compile(r'(?:^|,)namespaces="([^"]*)"')
_WINDOW = re.compile(r'(?:^|,)valid-(after|before)="?([0-9]{8}(?:[0-9]{4}(?:[0-9]{2})?)?)Z?"?')


class Principal(str):
    """A trusted key's principal, with its allowed_signers validity window (UTC, YYYYMMDDHHMMSS)."""

    after: str = ""
    before: str = "99999999999999"


def _principal(name: str, options: str) -> Principal:
    principal = Principal(name)
    for which, stamp in _WINDOW.findall(options):
        # OpenSSH: valid-after is inclusive from the start of that time, valid-before up to its end.
        start, end = stamp.ljust(14, "0"), stamp.ljust(14, "9")
        if which == "after":
            principal.after = start
        else:
            principal.before = end
    return principal


def read_allowed_signers(path: Path) -> dict[bytes, str]:
    """OpenSSH allowed_signers: `principals [options] ssh-ed25519 BASE64 [comment]` per line.

    A key whose `namespaces=` option leaves out bias-ledger is not trusted for it.
    """
    keys: dict[bytes, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        tokens = _TOKEN.findall(line)
        if not tokens or tokens[0].startswith("#"):
            continue
        at = next((i for i, t in enumerate(tokens) if t == "ssh-ed25519"), None)
        if at is None or at not in (1, 2) or at + 1 >= len(tokens):
            raise SpecError(f"{path}:{number}: not 'principals [options] ssh-ed25519 BASE64'")
        spaces = _NAMESPACES.search(tokens[1]) if at == 2 else None
        if spaces and "bias-ledger" not in spaces.group(1).split(","):
            continue
        options = tokens[1] if at == 2 else ""
        keys[wire_of_line(f"ssh-ed25519 {tokens[at + 1]}")] = _principal(tokens[0], options)
    return keys


@dataclass
class Trust:
    """Keys trusted so far, walking the records in index order."""

    trusted: dict[bytes, str]
    retired: dict[bytes, int] = field(default_factory=dict)  # key -> index of its rotation
    revoked: dict[bytes, int] = field(default_factory=dict)  # key -> invalid_after
    signed: list[tuple[int, bytes]] = field(default_factory=list)
    invalid: dict[int, str] = field(default_factory=dict)

    def usable(self, key: bytes, index: int) -> str | None:
        """Why `key` may not sign at `index` (None: it may); raises when it was never trusted."""
        if key not in self.trusted:
            raise SpecError(f"record {index}: signed by {fingerprint(key)}, a key not trusted")
        if key in self.retired and index > self.retired[key]:
            return f"signed by {fingerprint(key)} after its rotation at {self.retired[key]}"
        if key in self.revoked and index > self.revoked[key]:
            return f"signed by {fingerprint(key)}, revoked after {self.revoked[key]}"
        return None

    def record(self, index: int, key: bytes, record: dict[str, Any]) -> None:
        """Take one signature-verified record into account (its rotation or revocation)."""
        self.signed.append((index, key))
        problem = self.usable(key, index)
        principal = self.trusted[key]
        if isinstance(principal, Principal):
            # Section 7: valid-after/valid-before are checked against the record's timestamp.
            stamp = re.sub(r"[^0-9]", "", str(record["timestamp"]))[:14]
            if not principal.after <= stamp <= principal.before:
                raise SpecError(
                    f"record {index}: signed by {fingerprint(key)} at {record['timestamp']}, "
                    "outside its allowed_signers valid-after/valid-before"
                )
        if problem:
            self.invalid[index] = problem
            return
        kind = record["kind"]
        if kind == "key_rotation":
            payload = record["key_rotation"]
            new = wire_of_line(payload["new_public_key"])
            # 10.2: a format-2 record may leave the fingerprint out; held, it must match.
            if fingerprint(new) != self._stated(record, payload, "new_fingerprint", new):
                raise SpecError(f"record {index}: new_fingerprint is not new_public_key's")
            self.trusted.setdefault(new, str(self.trusted[key]))
            self.retired[key] = index
        elif kind == "key_revocation":
            payload = record["key_revocation"]
            gone = wire_of_line(payload["revoked_public_key"])
            if fingerprint(gone) != self._stated(record, payload, "revoked_fingerprint", gone):
                raise SpecError(f"record {index}: revoked_fingerprint is not revoked_public_key's")
            after = payload["invalid_after"]
            if not isinstance(after, int) or after < -1:
                raise SpecError(f"record {index}: invalid_after is not an index or -1")
            self.revoked[gone] = min(after, self.revoked.get(gone, after))
            for earlier, signer in self.signed:
                if signer == gone and earlier > after:
                    self.invalid.setdefault(earlier, f"signed by {fingerprint(gone)}, revoked")

    @staticmethod
    def _stated(record: dict[str, Any], payload: dict[str, Any], name: str, key: bytes) -> Any:
        """The fingerprint a key record states (section 4), or in format 2 (10.2) the key's
        own when it states none."""
        if record["format_version"] == 2 and name not in payload:
            return fingerprint(key)
        return payload.get(name)

    def checkpoint_key_ok(self, key: bytes, size: int) -> str | None:
        """Why `key` may not sign a checkpoint over `size` records (None: it may)."""
        return self.usable(key, size - 1)
