"""Trust anchors as a user gives them: an allowed_signers file, key fingerprints, or both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bias_ledger.ledger.trust import TrustedKeys, load_allowed_signers

TrustSpec = TrustedKeys | Path | str | Sequence[str | Path]
"""A loaded set, an allowed_signers path, a ``SHA256:...`` fingerprint, or a list of paths and
fingerprints (a ``str`` starting with ``SHA256:`` is a fingerprint, any other ``str`` a path)."""


def merge(sets: Sequence[TrustedKeys]) -> TrustedKeys | None:
    """The union of ``sets`` (the first one's entry wins for a key in several), or None."""
    if not sets:
        return None
    merged = sets[0]
    for other in sets[1:]:
        merged = replace(
            merged, keys={**other.keys, **merged.keys}, source=f"{merged.source} + {other.source}"
        )
    return merged


def load_trust(trusted_keys: Path | None, trusted_key: Sequence[str] = ()) -> TrustedKeys | None:
    """The trust set from ``--trusted-keys FILE`` and ``--trusted-key FP`` (their union)."""
    sets: list[TrustedKeys] = []
    if trusted_keys is not None:
        sets.append(load_allowed_signers(trusted_keys))
    if trusted_key:
        sets.append(TrustedKeys.from_fingerprints(trusted_key))
    return merge(sets)


def trusted_keys(spec: TrustSpec | None, *, source: str = "trusted=") -> TrustedKeys | None:
    """The trust set a Python caller names (see :data:`TrustSpec`); KeyFileError when a file
    cannot be read or a fingerprint is malformed."""
    if spec is None or isinstance(spec, TrustedKeys):
        return spec
    if isinstance(spec, Path):
        return load_allowed_signers(spec)
    if isinstance(spec, str):
        if spec.startswith("SHA256:"):
            return TrustedKeys.from_fingerprints([spec], source=source)
        return load_allowed_signers(Path(spec).expanduser())
    items = list(spec)
    paths = [Path(item) for item in items if not str(item).startswith("SHA256:")]
    prints = [str(item) for item in items if str(item).startswith("SHA256:")]
    sets = [load_allowed_signers(path.expanduser()) for path in paths]
    if prints:
        sets.append(TrustedKeys.from_fingerprints(prints, source=source))
    return merge(sets)
