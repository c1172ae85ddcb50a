"""A key's text where a key's path was expected: telling it apart, and keeping it out of messages.

``--key "$(cat key)"`` or ``BIAS_LEDGER_KEY="$(cat key)"`` gives the key itself where the path
of its file is expected; a message naming "the file" would quote the private key back. Standard
library only: the CLI checks every argument of every run with it.
"""

from __future__ import annotations

import re

REDACTED_KEY = "[private key, not shown]"
"""What a message shows in place of private key text."""

_ARMOR = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
_PRIVATE_KEY_ARMOR = re.compile(_ARMOR)
_PRIVATE_KEY_BLOCK = re.compile(
    # The block to its END line (across newlines, or newlines escaped as \n or \x0a); a block
    # cut short, up to the quote around it or the end of the text.
    _ARMOR + r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[^'\"]*)",
    re.DOTALL,
)
_BASE64_LINE = re.compile(r"[A-Za-z0-9+/]{32,}={0,2}")


def has_private_key_block(text: str) -> bool:
    """Whether ``text`` holds a PEM or OpenSSH private key (its BEGIN ... PRIVATE KEY line)."""
    return _PRIVATE_KEY_ARMOR.search(text) is not None


_BODY = re.compile(r"[A-Za-z0-9+/]{16,}")
"""A run of base64 in a block: key material (armour lines alone, as a message naming the
format quotes them, hold none)."""


def _redacted(block: re.Match[str]) -> str:
    inside = _PRIVATE_KEY_ARMOR.sub("", block.group(0))
    inside = re.sub(r"-----END [A-Z0-9 ]*PRIVATE KEY-----", "", inside)
    return REDACTED_KEY if _BODY.search(inside) else block.group(0)


_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
_OPENSSH_MAGIC = b"openssh-key-v1\x00"
"""How an OpenSSH private key's binary body (the base64 between its armour lines) begins."""


def _is_encoded_key(run: str) -> bool:
    """Whether a run of base64 decodes to key material: a private key file (armour and all,
    as ``base64 key`` writes it), or the start of an OpenSSH private key's body."""
    import base64
    import binascii

    usable = len(run.rstrip("=")) // 4 * 4  # a quoted run may be cut anywhere
    try:
        data = base64.b64decode(run[:usable], validate=True)
    except (binascii.Error, ValueError):
        return False
    return data.startswith(_OPENSSH_MAGIC) or b"PRIVATE KEY-----" in data


def _redacted_run(run: re.Match[str]) -> str:
    return REDACTED_KEY if _is_encoded_key(run.group(0)) else run.group(0)


def redact_private_keys(text: str) -> str:
    """``text`` with each PEM or OpenSSH private key block in it (its armour with key material
    inside), and each run of base64 that decodes to one (``"$(base64 -w0 key)"`` given as an
    option's value), shown as :data:`REDACTED_KEY`."""
    return _BASE64_RUN.sub(_redacted_run, _PRIVATE_KEY_BLOCK.sub(_redacted, text))


def looks_like_key_text(value: str) -> bool:
    """Whether ``value``, given as a key file's path, is rather the text of a key.

    Key text: any PEM armour or the words PRIVATE KEY, more than one line, or one long line of
    base64 (a key file's body line, or the whole file base64-encoded) with fewer slashes than a
    path of that length would have.
    """
    text = value.strip()
    return (
        "PRIVATE KEY" in text
        or "-----BEGIN " in text
        or "\n" in text
        or "\r" in text
        or _looks_like_base64(text)
    )


def _looks_like_base64(text: str) -> bool:
    mixed = all(
        any(test(char) for char in text) for test in (str.isupper, str.islower, str.isdigit)
    )
    return bool(_BASE64_LINE.fullmatch(text)) and mixed and text.count("/") * 10 <= len(text)


def key_text_message(given_as: str, expected: str) -> str:
    """What is wrong when ``given_as`` (``--key``, ``$BIAS_LEDGER_KEY``) is a key's text where
    ``expected`` (``the path of a key file``) was: never the text itself."""
    return (
        f"{given_as}: the value looks like the text of a key, not {expected} (not shown: it may "
        "be secret)"
    )
