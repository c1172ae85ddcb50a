"""Where the signing key comes from: --key, BIAS_LEDGER_KEY, BIAS_LEDGER_KEY_DATA, or defaults."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import KeyFileError
from bias_ledger.ledger.files import read_regular
from bias_ledger.ledger.key_text import key_text_message, looks_like_key_text
from bias_ledger.ledger.keys import load_private_key, private_key_info

KEY_PATH_ENV = "BIAS_LEDGER_KEY"
KEY_DATA_ENV = "BIAS_LEDGER_KEY_DATA"
PASSPHRASE_ENV = "BIAS_LEDGER_KEY_PASSPHRASE"


def default_key_path() -> Path:
    """Where ``bias-ledger key generate`` writes by default (never inside a ledger)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "bias-ledger" / "id_ed25519"


def default_key_candidates() -> tuple[Path, ...]:
    return (default_key_path(), Path.home() / ".ssh" / "id_ed25519")


def load_signing_key(
    option: Path | None,
    *,
    env: Mapping[str, str] | None = None,
    ask_passphrase: Callable[[str], str] | None = None,
    warn: Callable[[str], None] | None = None,
    given_as: str = "--key",
) -> Ed25519PrivateKey:
    """Load the signing key, asking for a passphrase only when the key is encrypted.

    Order: ``option``; ``$BIAS_LEDGER_KEY`` (a path); ``$BIAS_LEDGER_KEY_DATA`` (the key
    itself); the default path; ``~/.ssh/id_ed25519``. The passphrase comes from
    ``$BIAS_LEDGER_KEY_PASSPHRASE``, else ``ask_passphrase``. A key file that others than
    its owner may read is used, but ``warn`` is told (ssh refuses such a key; a CI runner's
    checkout may not keep modes, so this warns instead). ``given_as`` names ``option`` in
    messages (``--key``, ``--new-key``).
    """
    env = os.environ if env is None else env
    data: bytes
    if option is not None:
        source, data = str(option), _read(option, warn, given_as)
    elif env.get(KEY_PATH_ENV):
        path = Path(env[KEY_PATH_ENV])
        source, data = f"{path} (from {KEY_PATH_ENV})", _read(path, warn, f"${KEY_PATH_ENV}")
    elif env.get(KEY_DATA_ENV):
        source, data = f"${KEY_DATA_ENV}", env[KEY_DATA_ENV].encode()
    else:
        found = next((path for path in default_key_candidates() if path.is_file()), None)
        if found is None:
            tried = ", ".join(str(path) for path in default_key_candidates())
            raise KeyFileError(
                f"no signing key: expected --key, ${KEY_PATH_ENV}, ${KEY_DATA_ENV} or a key at "
                f"{tried}; create one with 'bias-ledger key generate'"
            )
        source, data = str(found), _read(found, warn, str(found))
    _, encrypted = private_key_info(data, source=source)
    passphrase: bytes | None = None
    if encrypted:
        if env.get(PASSPHRASE_ENV):
            passphrase = env[PASSPHRASE_ENV].encode()
        elif ask_passphrase is not None:
            passphrase = ask_passphrase(f"Passphrase for {source}").encode()
        else:
            raise KeyFileError(
                f"{source}: the key is encrypted; set {PASSPHRASE_ENV} or run interactively"
            )
    return load_private_key(data, passphrase, source=source)


def _read(path: Path, warn: Callable[[str], None] | None, given_as: str) -> bytes:
    """The key file's bytes; ``given_as`` names the path in the message when the value is a
    key's text rather than a path (a path that exists is always read)."""
    try:
        data = read_regular(path, error=KeyFileError)
        mode = path.stat().st_mode
    except OSError as exc:
        if looks_like_key_text(str(path)):
            wrong = key_text_message(given_as, "the path of a key file")
            raise KeyFileError(
                f"{wrong}; pass the file's path (a key's text is read only from ${KEY_DATA_ENV})"
            ) from None
        raise KeyFileError(f"{path}: cannot read the signing key ({exc.strerror})") from exc
    exposed = stat.S_IMODE(mode) & (stat.S_IRWXG | stat.S_IRWXO)
    if exposed and warn is not None:
        warn(
            f"{path}: the private key is accessible by others (mode "
            f"{stat.S_IMODE(mode):04o}); ssh would refuse it: run chmod 600 {path}"
        )
    return data
