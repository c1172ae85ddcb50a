"""The audit configuration file: `bias-ledger.toml`, or `[tool.bias-ledger]` in `pyproject.toml`."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bias_ledger.errors import ConfigError, InputError
from bias_ledger.input_options import BY_NAME, OPTIONS, Kind, resolved
from bias_ledger.io.model import ColumnMapping, JoinMode
from bias_ledger.ledger.files import read_regular
from bias_ledger.metrics.model import Task
from bias_ledger.toml_text import parse_toml

CONFIG_NAME = "bias-ledger.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class AuditConfig:
    """Audit settings from a config file, later overridden by command-line options.

    The fields are the input options the config file can set (:mod:`bias_ledger.input_options`
    declares each, with its key; a test checks the two agree), and the settings that are not
    audit inputs (``policy``, ``standard``). None means "not set": the option's default applies.
    """

    source: Path | None = None
    """The file the settings came from; None when there was none."""
    data: Path | None = None
    """Dataset file (relative paths in the file are resolved against its directory)."""
    predictions: Path | None = None
    """Separate predictions file."""
    id_column: str | None = None
    """Id column joining ``data`` and ``predictions`` (key ``id``)."""
    join: str | None = None
    """Join mode for a separate predictions file."""
    label: str | None = None
    """True label column."""
    prediction: str | None = None
    """Predicted label column."""
    score: str | None = None
    """Model score column."""
    threshold: float | None = None
    """Decision threshold for ``score``."""
    pos_label: str | None = None
    """Positive label value, as text."""
    sensitive: tuple[str, ...] = ()
    """Sensitive feature columns."""
    references: Mapping[str, str] = field(default_factory=dict)
    """Reference group per sensitive feature (key ``reference``; default: the largest group)."""
    model: Path | None = None
    """A model artifact to fingerprint."""
    model_name: str | None = None
    """Model name for the record."""
    model_version: str | None = None
    """Model version for the record."""
    missing_as_group: bool | None = None
    """Missing sensitive values form their own group."""
    drop_missing: bool | None = None
    """Drop rows missing the label, prediction or score."""
    default_na: bool | None = None
    """Whether "NA", "N/A", "null", ... in CSV cells are missing (default yes)."""
    max_groups: int | None = None
    """Maximum groups per sensitive feature."""
    task: str | None = None
    """binary_classification (default), regression or multiclass_classification."""
    min_group_size: int | None = None
    """Groups smaller than this are marked as having insufficient data."""
    ci: float | None = None
    """Confidence level of the intervals (0 for none)."""
    bootstrap: int | None = None
    """Bootstrap resamples for the intervals."""
    seed: int | None = None
    """Bootstrap seed."""
    thresholds: tuple[float, ...] | None = None
    """Thresholds of the per-group sweep over ``score``."""
    engine: str | None = None
    """Where rows are counted: arrow, duckdb or spark."""
    spark_master: str | None = None
    """Spark master URL."""
    table: str | None = None
    """A Spark catalog table to audit."""
    weight: str | None = None
    """Sample-weight column (``--weight``)."""
    policy: Path | None = None
    """Fairness policy file."""
    standard: str | None = None
    """An audit shaped by a regulation (``nyc-ll144``); validated by ``bias_ledger.standards``."""
    standard_settings: Mapping[str, Any] = field(default_factory=dict)
    """The ``[nyc-ll144]`` table: that standard's columns and declared facts."""

    def with_options(self, **options: Any) -> AuditConfig:
        """These settings overridden by every option that is not None (command line wins).

        ``sensitive`` replaces the configured list when non-empty; ``references`` entries
        override the configured entries feature by feature.
        """
        names = {f.name for f in dataclasses.fields(self)} - {"source"}
        unknown = sorted(set(options) - names)
        if unknown:
            raise TypeError(f"unknown option {unknown[0]!r}")
        changes: dict[str, Any] = {}
        for name, value in options.items():
            if value is None or (name == "sensitive" and not value):
                continue
            if name == "sensitive":
                value = tuple(value)
            elif name == "references":
                value = {**self.references, **value}
            changes[name] = value
        return dataclasses.replace(self, **changes)

    def option_values(self) -> dict[str, Any]:
        """The input options these settings set, by option name (unset ones left out)."""
        values = {name: getattr(self, name) for name in OPTION_FIELDS}
        values["references"] = dict(self.references) or None
        values["sensitive"] = self.sensitive or None
        return {name: value for name, value in values.items() if value is not None}

    def column_mapping(self) -> ColumnMapping:
        """The column mapping these settings describe; InputError when the label is not set."""
        if not self.label:
            raise InputError(
                "no label column given; expected --label COLUMN or `label` in " + CONFIG_NAME
            )
        return mapping_from_options(self.option_values())


OPTION_FIELDS = tuple(item.name for item in OPTIONS if item.config is not None)
"""The settings fields that are input options."""
# TOML key -> (field name, kind): the input options', then the settings that are not inputs.
KEYS: dict[str, tuple[str, str]] = {
    **{item.config: (item.name, item.kind.value) for item in OPTIONS if item.config is not None},
    "policy": ("policy", Kind.PATH.value),
    "standard": ("standard", Kind.STR.value),
    "nyc-ll144": ("standard_settings", "settings"),
}
EXPECTED = {
    Kind.PATH: "a path (string)",
    Kind.STR: "a string",
    Kind.TEXT: "a string or a number",
    Kind.NUMBER: "a number",
    Kind.NAMES: "a list of strings",
    Kind.NUMBERS: "a list of numbers",
    Kind.GROUPS: "a table of feature = group",
    Kind.FLAG: "true or false",
    Kind.COUNT: "a positive integer",
    "settings": "a table",
}


def _expected(key: str) -> str:
    name, kind = KEYS[key]
    if kind == Kind.CHOICE:
        quoted = [repr(choice) for choice in BY_NAME[name].choices]
        return f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return EXPECTED[kind]


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return None


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None


def _convert(key: str, value: Any, base: Path) -> Any:
    """The typed value, or None when ``value`` does not have the expected type."""
    name, kind = KEYS[key]
    if kind in (Kind.PATH, Kind.STR):
        if not isinstance(value, str) or not value:
            return None
        return base / value if kind == Kind.PATH else value
    if kind == Kind.TEXT:
        return _scalar_text(value)
    if kind == Kind.CHOICE:
        return value if value in BY_NAME[name].choices else None
    if kind == Kind.NUMBER:
        return _number(value)
    if kind == Kind.NUMBERS:
        numbers = [_number(v) for v in value] if isinstance(value, list) else [None]
        return None if not numbers or None in numbers else tuple(numbers)
    if kind == Kind.FLAG:
        return value if isinstance(value, bool) else None
    if kind == "settings":  # checked key by key where the standard is applied
        return dict(value) if isinstance(value, dict) else None
    if kind == Kind.COUNT:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return value if ok else None
    if kind == Kind.NAMES:
        if isinstance(value, str):
            value = [value]
        ok = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
        return tuple(value) if ok else None
    if not isinstance(value, dict):
        return None
    pairs = {str(k): _scalar_text(v) for k, v in value.items()}
    return None if any(v is None for v in pairs.values()) else pairs


def parse_config(table: Mapping[str, Any], *, source: Path, where: str = "") -> AuditConfig:
    """Validate a parsed TOML table; ConfigError naming the file and the offending key."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            close = difflib.get_close_matches(key, list(KEYS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(KEYS)}"
            raise ConfigError(f"{source}: unknown key {where + key!r}{hint}")
        converted = _convert(key, value, source.parent)
        if converted is None:
            raise ConfigError(
                f"{source}: key {where + key!r} must be {_expected(key)}; found {value!r}"
            )
        values[KEYS[key][0]] = converted
    return AuditConfig(source=source, **values)


def mapping_from_options(values: Mapping[str, Any]) -> ColumnMapping:
    """The column mapping of the option values (absent ones at their defaults)."""
    merged = resolved(values)
    if not merged["label"]:
        raise InputError("no label column given; expected label=COLUMN")
    sensitive = merged["sensitive"]
    join = merged["join"]
    return ColumnMapping(
        label=merged["label"],
        prediction=merged["prediction"],
        score=merged["score"],
        threshold=merged["threshold"],
        pos_label=merged["pos_label"],
        sensitive=(sensitive,) if isinstance(sensitive, str) else tuple(sensitive),
        id_column=merged["id_column"],
        join=JoinMode(join) if join else None,
        missing_as_group=bool(merged["missing_as_group"]),
        drop_missing=bool(merged["drop_missing"]),
        max_groups=int(merged["max_groups"]),
        default_na=bool(merged["default_na"]),
        task=Task(merged["task"]),
        weight=merged["weight"],
    )


def find_config(path: Path | None, *, cwd: Path) -> Path | None:
    """The config file to use: ``path``, else bias-ledger.toml, else pyproject.toml in ``cwd``."""
    if path is not None:
        return path
    for name in (CONFIG_NAME, PYPROJECT):
        candidate = cwd / name
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None, *, cwd: Path) -> AuditConfig:
    """The settings of the explicit ``path``, or of the config file found in ``cwd``.

    ``bias-ledger.toml`` wins over ``pyproject.toml``; a pyproject.toml without a
    ``[tool.bias-ledger]`` table gives empty settings unless it was named explicitly.
    """
    found = find_config(path, cwd=cwd)
    if found is None:
        return AuditConfig()
    try:
        text = read_regular(found, error=ConfigError).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{found}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{found}: cannot read the config file ({exc})") from None
    document = parse_toml(text, source=str(found), error=ConfigError)
    if found.name != PYPROJECT:
        return parse_config(document, source=found)
    section = document.get("tool", {}).get("bias-ledger")
    if section is None:
        if path is not None:
            raise ConfigError(f"{found}: no [tool.bias-ledger] table")
        return AuditConfig()
    if not isinstance(section, dict):
        raise ConfigError(f"{found}: [tool.bias-ledger] must be a table")
    return parse_config(section, source=found, where="tool.bias-ledger.")
