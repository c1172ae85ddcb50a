"""The typer application: command registration, global flags, and error-to-exit-code mapping."""

from __future__ import annotations

import os
import re
import sys
import traceback
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NoReturn, TypeGuard

import typer
from typer.core import TyperGroup

from bias_ledger.errors import BiasLedgerError, ExitCode
from bias_ledger.ledger.key_text import has_private_key_block, redact_private_keys

if TYPE_CHECKING:
    from typer._click.exceptions import ClickException

DEBUG_FLAG = "--debug"
DEBUG_ENV = "BIAS_LEDGER_DEBUG"


class _Group(TyperGroup):
    """Maps bias-ledger errors to one stderr line and their exit code; ``--debug`` anywhere."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        head, sep, tail = (
            (args[: args.index("--")], ["--"], args[args.index("--") + 1 :])
            if ("--" in args)
            else (args, [], [])
        )
        if DEBUG_FLAG in head:
            ctx.meta["bias_ledger.debug"] = True
            head = [arg for arg in head if arg != DEBUG_FLAG]
        given_as = _key_text_argument(args)
        if given_as is not None:  # before click, which would quote it back as an unknown option
            _fail(_key_text_argument_message(given_as), ExitCode.USAGE, debug=False)
        try:
            return super().parse_args(ctx, head + sep + tail)
        except Exception as error:
            if _is_usage_error(error):
                _redact(error)
            raise

    def invoke(self, ctx: Any) -> Any:
        debug = bool(ctx.meta.get("bias_ledger.debug")) or os.environ.get(DEBUG_ENV) == "1"
        try:
            return super().invoke(ctx)
        except BiasLedgerError as error:
            _fail(error.diagnostics(), error.exit_code, debug=debug)
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            _fail(f"{where}{error.strerror or error}", ExitCode.USAGE, debug=debug)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as error:  # a bug: still one line, the traceback behind --debug
            if _is_usage_error(error):
                _redact(error)
                raise
            _fail(
                f"internal error: {type(error).__name__}: {error} "
                "(this is a bug; rerun with --debug for the traceback and report it)",
                ExitCode.USAGE,
                debug=debug,
            )


def _fail(message: str, code: ExitCode, *, debug: bool) -> NoReturn:
    """One line on stderr and the error's exit code; ``--debug`` adds the traceback before it
    and never changes the code (an uncaught exception would exit 1, "policy violated")."""
    from bias_ledger.cli.output import error_line

    if debug:
        sys.stderr.write(redact_secrets(traceback.format_exc()))
    error_line(redact_secrets(message))
    raise typer.Exit(int(code)) from None


_KEY_DATA_ENV = "BIAS_LEDGER_KEY_DATA"
_PASSPHRASE_ENV = "BIAS_LEDGER_KEY_PASSPHRASE"
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{8,}")


def redact_secrets(text: str) -> str:
    """``text`` with any private key block, the passphrase and any piece of key data from the
    environment blanked out.

    Messages are written not to quote key material; this is the net under that rule, for
    errors raised by code that does not know its input was a secret (a library, a bug, click
    quoting a value it could not parse).
    """
    text = redact_private_keys(text)
    passphrase = os.environ.get(_PASSPHRASE_ENV, "")
    if len(passphrase) >= 4:
        text = text.replace(passphrase, "[redacted]")
    # A PEM key's armour lines are public text (and appear in messages); the rest is not, and
    # any 8 characters of it quoted are too many.
    secret = "".join(
        "".join(line.split())
        for line in os.environ.get(_KEY_DATA_ENV, "").splitlines()
        if "-----" not in line
    )
    if len(secret) < 8:
        return text

    def blank(match: re.Match[str]) -> str:
        run = match.group()
        quoted = any(run[i : i + 8] in secret for i in range(len(run) - 7))
        return "[redacted]" if quoted else run

    return _TOKEN.sub(blank, text)


def _is_usage_error(error: Exception) -> TypeGuard[ClickException]:
    """Click's own usage errors are shown by click, with exit code 2."""
    from typer._click.exceptions import ClickException

    return isinstance(error, ClickException)


def _redact(error: ClickException) -> None:
    """Blank out any secret in the value click's error quotes (an option's value, an unknown
    option), before click shows it."""
    error.message = redact_secrets(error.message)


KEY_PATH_OPTIONS = ("--key", "--new-key")
"""The options whose value is the path of a private key file, named when given a key's text."""


def _key_text_argument(args: list[str]) -> str | None:
    """Where the command line has a private key's text: the key option it is the value of
    (``--key``), else ``an argument``; None when no argument holds one."""
    for previous, arg in pairwise(["", *args]):
        if has_private_key_block(arg):
            option = arg.partition("=")[0]
            for named in (option, previous):
                if named in KEY_PATH_OPTIONS:
                    return named
            return "an argument"
    return None


def _key_text_argument_message(given_as: str) -> str:
    return (
        f"{given_as}: the value is the text of a private key (not shown; a command line is "
        "visible to other processes); pass the key file's path instead"
    )


def _new_app() -> typer.Typer:
    app = typer.Typer(
        cls=_Group,
        name="bias-ledger",
        help=(
            "Fairness audits of ML models, recorded in a signed, Merkle-rooted, append-only "
            "ledger.\n\nExit codes: 0 success; 1 a fairness policy was violated; 2 usage or "
            "input error; 3 verification failed. Add --debug anywhere for a traceback on errors."
        ),
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
    )
    app.callback()(_root)
    return app


def _print_version(value: bool) -> None:
    if value:
        from bias_ledger._version import __version__

        typer.echo(f"bias-ledger {__version__}")
        raise typer.Exit(0)


def _root(
    debug: bool = typer.Option(
        False, "--debug", help="Show a traceback on errors (also BIAS_LEDGER_DEBUG=1)."
    ),
    version: bool = typer.Option(
        False,
        "--version",
        # Eager, so that it works without a command (the group requires one otherwise).
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    pass


MODULES = (
    "ledger_cmd",
    "key_cmd",
    "audit_cmd",
    "gate_cmd",
    "export_cmd",
    "witness_cmd",
    "report_cmd",
    "attest_cmd",
    "summary_cmd",  # last: only when no full `report` command is registered
)
"""The modules of bias_ledger.cli registering commands, in the order of ``--help``."""

COMMANDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("init", "log", "show", "verify", "proof", "checkpoint", "fsck", "publish"),
        ("ledger_cmd",),
    ),
    "key": ("key_cmd",),
    "audit": ("audit_cmd",),
    "approve": ("audit_cmd",),
    "gate": ("gate_cmd",),
    "export": ("export_cmd",),
    "witness": ("witness_cmd",),
    "report": ("report_cmd", "summary_cmd"),
    "attest": ("attest_cmd",),
}
"""Which modules register each top-level command, so that a run imports and builds only the
one it invokes (tests/cli/test_startup.py checks this against the full registration)."""


def build(modules: tuple[str, ...] = MODULES) -> typer.Typer:
    """The application with the commands of ``modules`` registered."""
    from importlib import import_module

    from bias_ledger.cli import fast_params, metavars

    fast_params.install()
    metavars.install()
    app = _new_app()
    for name in modules:
        import_module(f"bias_ledger.cli.{name}").register(app)
    return app


def _invoked(args: list[str]) -> tuple[str, ...]:
    """The modules the command line needs: the invoked command's, else every one (for help,
    a misspelt command or none, which click answers with every command listed)."""
    words = [arg for arg in args if arg != DEBUG_FLAG]
    if words and words[0] in COMMANDS:
        return COMMANDS[words[0]]
    return MODULES


_FULL: list[typer.Typer] = []


def __getattr__(name: str) -> Any:
    # ``app``, with every command, is built on first use (tests, documentation tools).
    if name == "app":
        if not _FULL:
            _FULL.append(build())
        return _FULL[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run() -> None:
    """Run the CLI with ``sys.argv``."""
    args = sys.argv[1:]
    build(_invoked(args))(prog_name="bias-ledger", args=args)
