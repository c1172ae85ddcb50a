"""A ledger's witnesses: ``witnesses.json`` (who to ask) and ``witness-state.json`` (a hint).

``witnesses.json`` is ``{"witnesses": [{"name": ..., "url": ..., "verifier_key": ...}]}``
in canonical JSON; ``witness-state.json`` maps each witness name to the size it last cosigned,
only to save a round trip: a witness's 409 answer corrects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bias_ledger.errors import InputError, LedgerError, VerificationError
from bias_ledger.ledger import canonical
from bias_ledger.ledger.files import write_atomically
from bias_ledger.ledger.note import COSIGNATURE_V1, NoteVerifier, parse_verifier_key

WITNESSES_FILE = "witnesses.json"
HINTS_FILE = "witness-state.json"


@dataclass(frozen=True)
class WitnessConfig:
    """One witness a ledger pushes its checkpoints to."""

    name: str
    """A local label (reports and ``witness remove`` use it)."""
    url: str
    """The submission prefix; checkpoints go to ``<url>/add-checkpoint``."""
    verifier_key: str
    """The witness's cosignature verifier key (type 0x04)."""

    @property
    def verifier(self) -> NoteVerifier:
        """The parsed verifier key."""
        return parse_verifier_key(self.verifier_key)

    def to_json(self) -> dict[str, str]:
        """The entry in ``witnesses.json``."""
        return {"name": self.name, "url": self.url, "verifier_key": self.verifier_key}


def make_witness(name: str, url: str, verifier_key: str) -> WitnessConfig:
    """Validate a witness given on the command line."""
    if not name or any(char.isspace() or ord(char) < 0x20 for char in name):
        raise InputError(f"witness name {name!r}: expected a non-empty name without spaces")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(f"witness URL {url!r}: expected http(s)://host[:port][/prefix]")
    try:
        verifier = parse_verifier_key(verifier_key)
    except VerificationError as exc:
        raise InputError(exc.message) from exc
    if verifier.signature_type != COSIGNATURE_V1:
        raise InputError(
            f"witness {name}: expected a cosignature/v1 key (type 0x04), got type "
            f"0x{verifier.signature_type:02x} (a log's note key?)"
        )
    return WitnessConfig(name, url.rstrip("/"), verifier_key)


def _read_json(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        return canonical.parse_json(data, where=str(path))
    except VerificationError as exc:
        raise LedgerError(exc.message) from exc


def load_witnesses(ledger_dir: Path) -> tuple[WitnessConfig, ...]:
    """The configured witnesses (none if ``witnesses.json`` does not exist)."""
    path = ledger_dir / WITNESSES_FILE
    document = _read_json(path)
    if document is None:
        return ()
    entries = document.get("witnesses") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise LedgerError(f'{path}: expected {{"witnesses": [...]}}')
    witnesses = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != {"name", "url", "verifier_key"}:
            raise LedgerError(f"{path}: witness {number}: expected name, url and verifier_key")
        try:
            witnesses.append(make_witness(entry["name"], entry["url"], entry["verifier_key"]))
        except (InputError, TypeError) as exc:
            raise LedgerError(f"{path}: witness {number}: {exc}") from exc
    return tuple(witnesses)


def save_witnesses(ledger_dir: Path, witnesses: tuple[WitnessConfig, ...]) -> None:
    """Replace ``witnesses.json`` atomically (the caller holds the ledger lock)."""
    document = {"witnesses": [witness.to_json() for witness in witnesses]}
    write_atomically(ledger_dir / WITNESSES_FILE, canonical.encode(document) + b"\n")


def load_hints(ledger_dir: Path) -> dict[str, int]:
    """The size each witness last cosigned, as far as this ledger knows; unreadable = none."""
    try:
        document = _read_json(ledger_dir / HINTS_FILE)
    except LedgerError:
        return {}  # only a hint: the witnesses' 409 answers rebuild it
    if not isinstance(document, dict):
        return {}
    return {
        name: size
        for name, size in document.items()
        if isinstance(name, str) and isinstance(size, int) and size >= 0
    }


def save_hints(ledger_dir: Path, hints: dict[str, int]) -> None:
    """Replace ``witness-state.json`` atomically, without fsync.

    It is only a hint (a witness's 409 corrects a stale one), so it does not pay for the two
    fsyncs that would add ~20 ms to every append; the rename still keeps it whole.
    """
    write_atomically(ledger_dir / HINTS_FILE, canonical.encode(hints) + b"\n", durable=False)
