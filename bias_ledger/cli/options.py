"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

LedgerOption = Annotated[
    Path | None,
    typer.Option(
        "--ledger",
        envvar="BIAS_LEDGER_DIR",
        help="Ledger directory (default ./.bias-ledger; env BIAS_LEDGER_DIR).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key",
        help=(
            "Signing key (OpenSSH Ed25519). Default: env BIAS_LEDGER_KEY (a path) or "
            "BIAS_LEDGER_KEY_DATA (the key), else ~/.config/bias-ledger/id_ed25519, "
            "else ~/.ssh/id_ed25519."
        ),
        show_default=False,
    ),
]
TrustedKeysOption = Annotated[
    Path | None,
    typer.Option(
        "--trusted-keys",
        metavar="FILE",
        help="OpenSSH allowed_signers file of trusted keys (principal and key per line).",
        show_default=False,
    ),
]
TrustedKeyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--trusted-key",
        metavar="FINGERPRINT",
        help="Trust the key with this fingerprint (SHA256:...); repeatable.",
        show_default=False,
    ),
]
WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Show every column of a table in one table and every row (default: fit the "
        "terminal's width, continuing tables that do not fit, and bound long lists).",
    ),
]


def print_fitted(renderable: object, wide: bool) -> None:
    """Print at the terminal's width, or ``--wide``: everything at full width."""
    from bias_ledger.cli.output import out
    from bias_ledger.render.fit import WIDE

    console = out()
    if not wide:
        console.print(renderable)
        return
    # Console.print clamps a wider width to the console's own: widen the console instead.
    width = console.width
    console.width = WIDE
    try:
        console.print(renderable)
    finally:
        console.width = width
