"""The witness's ``--logs`` file: which logs it cosigns for, and the keys that sign them.

A TOML file with one ``[[log]]`` table per log::

    [[log]]
    origin = "example.com/audits"
    verifier_keys = ["example.com/audits+7d3e91ba+AVJA0x5UQ..."]

``verifier_keys`` lists the log's Ed25519 note keys (``bias-ledger key show --note-key``);
a checkpoint is accepted with a valid signature by any one of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bias_ledger.errors import ConfigError, VerificationError
from bias_ledger.ledger.files import read_regular
from bias_ledger.ledger.note import ED25519, NoteVerifier, parse_verifier_key
from bias_ledger.toml_text import parse_toml

LogKeys = Mapping[str, tuple[NoteVerifier, ...]]
"""Each known origin and the note keys trusted to sign its checkpoints."""


def _log_keys(table: Any, where: str) -> tuple[str, tuple[NoteVerifier, ...]]:
    if not isinstance(table, dict) or set(table) != {"origin", "verifier_keys"}:
        raise ConfigError(f"{where}: expected exactly the keys 'origin' and 'verifier_keys'")
    origin, keys = table["origin"], table["verifier_keys"]
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise ConfigError(f"{where}: expected 'origin' to be a one-line, non-empty string")
    if not isinstance(keys, list) or not keys or not all(isinstance(key, str) for key in keys):
        raise ConfigError(f"{where}: expected 'verifier_keys' to be a non-empty list of strings")
    verifiers = []
    for key in keys:
        try:
            verifier = parse_verifier_key(key)
        except VerificationError as exc:
            raise ConfigError(f"{where}: {exc.message}") from exc
        if verifier.signature_type != ED25519:
            raise ConfigError(f"{where}: expected an Ed25519 note key (type 0x01), got {key!r}")
        verifiers.append(verifier)
    return origin, tuple(verifiers)


def parse_logs(text: str, source: str) -> LogKeys:
    """Parse the text of a ``--logs`` file; ``source`` names it in errors."""
    document = parse_toml(text, source=source, error=ConfigError)
    tables = document.get("log")
    if set(document) != {"log"} or not isinstance(tables, list) or not tables:
        raise ConfigError(f"{source}: expected one or more [[log]] tables and nothing else")
    logs: dict[str, tuple[NoteVerifier, ...]] = {}
    for number, table in enumerate(tables, start=1):
        origin, verifiers = _log_keys(table, f"{source}: [[log]] number {number}")
        if origin in logs:
            raise ConfigError(f"{source}: origin {origin!r} is listed twice")
        logs[origin] = verifiers
    return logs


def load_logs(path: Path) -> LogKeys:
    """Read and parse a ``--logs`` file."""
    try:
        text = read_regular(path, error=ConfigError).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the logs file: {exc}") from exc
    return parse_logs(text, str(path))
