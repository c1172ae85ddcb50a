"""The input options that ``audit`` and ``gate`` share, and how they become an AuditRequest."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bias_ledger.errors import InputError
from bias_ledger.input_options import OPTIONS, InputOption, Kind
from bias_ledger.wording import with_article

if TYPE_CHECKING:
    from bias_ledger._audit import AuditRequest

DataArg = Annotated[
    Path | None,
    typer.Argument(
        help="Dataset file: CSV (.csv, .csv.gz), Parquet or JSON Lines.",
        show_default=False,
        metavar="DATA",
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Config file (default: ./bias-ledger.toml or [tool.bias-ledger] in ./pyproject.toml).",
        show_default=False,
        metavar="PATH",
    ),
]

# The command-line type of each kind. Files are lists so that a repeated --data or --predictions
# is an error rather than the last one winning; --thresholds is one comma-separated text.
_CLI_TYPES: dict[Kind, Any] = {
    Kind.PATH: list[Path] | None,
    Kind.STR: str | None,
    Kind.TEXT: str | None,
    Kind.CHOICE: str | None,
    Kind.NUMBER: float | None,
    Kind.COUNT: int | None,
    Kind.FLAG: bool | None,
    Kind.NAMES: list[str] | None,
    Kind.GROUPS: list[str] | None,
    Kind.NUMBERS: str | None,
}


# What --help shows after each kind's flag (typer's default would be its type: <list[Path]>).
_METAVARS: dict[Kind, str | None] = {
    Kind.PATH: "PATH",
    Kind.STR: "NAME",
    Kind.TEXT: "TEXT",
    Kind.CHOICE: "CHOICE",
    Kind.NUMBER: "NUMBER",
    Kind.COUNT: "INTEGER",
    Kind.FLAG: None,
    Kind.NAMES: "COLUMN",
    Kind.GROUPS: "FEATURE=GROUP",
    Kind.NUMBERS: "NUMBERS",
}


def _metavar(item: InputOption) -> str | None:
    if item.kind is Kind.CHOICE and item.choices:
        return "|".join(item.choices)
    return _METAVARS[item.kind]


def _parameter(item: InputOption) -> inspect.Parameter:
    assert item.flag is not None
    info = typer.Option(item.flag, help=item.help, show_default=False, metavar=_metavar(item))
    return inspect.Parameter(
        item.cli_param,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[_CLI_TYPES[item.kind], info],
    )


def cli_options(command: str) -> tuple[InputOption, ...]:
    """The input options ``command`` takes on the command line, in declaration order."""
    return tuple(item for item in OPTIONS if item.flag and command in item.commands)


F = TypeVar("F", bound=Callable[..., Any])


def takes_input_options(command: str) -> Callable[[F], F]:
    """Give a typer command the DATA argument, ``--config`` and every declared input option.

    The command takes ``ctx`` first and ``**inputs`` last; the options reach it by name in
    ``ctx.params`` (``InputOptions.from_params``). Its own options follow the inputs in --help.
    """

    def decorate(func: F) -> F:
        signature = inspect.signature(func, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        keyword = inspect.Parameter.KEYWORD_ONLY
        inputs = [
            inspect.Parameter("data", keyword, default=None, annotation=DataArg),
            *(_parameter(item) for item in cli_options(command)),
            inspect.Parameter("config", keyword, default=None, annotation=ConfigOpt),
        ]
        rest = [p.replace(kind=keyword) for p in own[1:]]
        func.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[own[0], *inputs, *rest]
        )
        return func

    return decorate


@dataclass(frozen=True)
class InputOptions:
    """The input options given on the command line, by option name (absent: not given)."""

    given: Mapping[str, Any]
    """Values as :func:`bias_ledger._request.request_from_options` takes them."""
    config: Path | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> InputOptions:
        """From a command's parsed parameters (``ctx.params``); DATA may come as the argument or
        as ``--data``."""
        given: dict[str, Any] = {}
        for item in OPTIONS:
            if item.flag is None or item.cli_param not in params:
                continue
            value = _value(item, params[item.cli_param])
            if value is not None:
                given[item.name] = value
        data = pick_data(params.get("data"), given.get("data"))
        if data is not None:
            given["data"] = data
        return cls(given=given, config=params.get("config"))


def _value(item: InputOption, raw: Any) -> Any:
    """The option's value from the command line's, None when it is not given."""
    if raw is None:
        return None
    if item.kind is Kind.PATH:
        return once(item.flag or item.name, raw)
    if item.kind is Kind.NAMES:
        return tuple(raw) or None
    if item.kind is Kind.GROUPS:
        return parse_references(raw) or None
    if item.kind is Kind.NUMBERS:
        return parse_thresholds(raw)
    if item.kind is Kind.FLAG and item.negated:
        return False if raw else None
    return raw


def once(option: str, values: Sequence[Path] | Path | None) -> Path | None:
    """The one file an option names; InputError when it is repeated (typer keeps the last)."""
    if values is None or isinstance(values, Path):
        return values
    if len(values) > 1:
        given = " ".join(f"{option} {value}" for value in values)
        raise InputError(f"{option} is given {len(values)} times ({given}); give it once")
    return values[0] if values else None


def pick_data(argument: Path | None, option: Path | None) -> Path | None:
    """DATA may be given as the argument or as --data, not both."""
    if argument is not None and option is not None and argument != option:
        raise InputError(f"two datasets given: DATA {argument} and --data {option}; give one")
    return argument or option


def parse_references(values: Sequence[str]) -> dict[str, str]:
    references: dict[str, str] = {}
    for value in values:
        feature, sep, group = value.partition("=")
        if not sep or not feature or not group:
            raise InputError(f"--reference {value!r}: expected FEATURE=GROUP")
        references[feature] = group
    return references


_NO_INTERVALS = ("ci", "bootstrap", "seed", "thresholds")


def _asks_for(name: str, value: Any) -> bool:
    """Whether an interval option's value asks for something (``--ci 0`` asks for none)."""
    if name in ("ci", "bootstrap"):
        return bool(value)
    return value is not None


def build_request(options: InputOptions) -> tuple[AuditRequest, Path | None]:
    """The AuditRequest, and the policy file named in the config (if any)."""
    from bias_ledger._request import request_from_options
    from bias_ledger.input_options import option, resolved
    from bias_ledger.io.config import load_config

    resolved(options.given)  # a bad choice is an error before the config file is read
    config = load_config(options.config, cwd=Path.cwd()).with_options(**options.given)
    if config.data is None and config.table is None:
        raise InputError(
            "no dataset given: expected a DATA argument, `data` in bias-ledger.toml, or "
            "--table NAME with --engine spark"
        )
    values = config.option_values()
    config.column_mapping()  # the label's absence, named as the command line spells it
    values = resolved(values)
    if values["task"] != "binary_classification":
        # Intervals exist for binary classification only: refuse rather than record options
        # that changed nothing.
        set_values = config.option_values()
        given = [name for name in _NO_INTERVALS if _asks_for(name, set_values.get(name))]
        if given:
            raise InputError(
                f"{option(given[0]).flag} applies to binary classification; "
                f"{with_article(str(values['task']))} audit has no confidence intervals or "
                "threshold sweep (leave it out)"
            )
    return request_from_options(values), config.policy


def parse_thresholds(text: str) -> tuple[float, ...]:
    """``--thresholds 0.2,0.5,0.8`` as numbers (their checks are the core's)."""
    values = []
    for item in text.split(","):
        try:
            values.append(float(item))
        except ValueError:
            raise InputError(
                f"--thresholds {text!r}: expected numbers separated by commas, got {item!r}"
            ) from None
    return tuple(values)
