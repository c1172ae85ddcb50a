"""Locate and load the published RFC 6962 SHA-256 vectors committed under tests/vectors/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# A verbatim copy of shared/vectors/rfc6962-sha256.json, committed so tests never depend on
# anything outside the repository.
VECTORS_PATH = Path(__file__).resolve().parent.parent / "vectors" / "rfc6962-sha256.json"


def load_vectors() -> dict[str, Any]:
    with VECTORS_PATH.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def unhex(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]
