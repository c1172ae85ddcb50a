"""The audit configuration file: `bias-ledger.toml`, or `[tool.bias-ledger]` in `pyproject.toml`."""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bias_ledger.errors import ConfigError, InputError
from bias_ledger.io.model import ColumnMapping, JoinMode
from bias_ledger.ledger.files import read_regular
from bias_ledger.metrics.model import Task

CONFIG_NAME = "bias-ledger.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class AuditConfig:
    """Audit settings from a config file, later overridden by command-line options.

    None means "not set": the option's default applies.
    """

    source: Path | None = None
    """The file the settings came from; None when there was none."""
    data: Path | None = None
    """Dataset file (relative paths in the file are resolved against its directory)."""
    predictions: Path | None = None
    """Separate predictions file."""
    id: str | None = None
    """Id column joining ``data`` and ``predictions``."""
    join: JoinMode | None = None
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
    reference: Mapping[str, str] = field(default_factory=dict)
    """Reference group per sensitive feature (default: each feature's largest group)."""
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
    max_groups: int | None = None
    """Maximum groups per sensitive feature."""
    policy: Path | None = None
    """Fairness policy file."""
    min_group_size: int | None = None
    """Groups smaller than this are marked as having insufficient data."""
    task: Task | None = None
    """binary_classification (default), regression or multiclass_classification."""
    default_na: bool | None = None
    """Whether "NA", "N/A", "null", ... in CSV cells are missing (default yes)."""
    weight: str | None = None
    """Sample-weight column (``--weight``)."""
    standard: str | None = None
    """An audit shaped by a regulation (``nyc-ll144``); validated by ``bias_ledger.standards``."""
    standard_settings: Mapping[str, Any] = field(default_factory=dict)
    """The ``[nyc-ll144]`` table: that standard's columns and declared facts."""

    def with_options(self, **options: Any) -> AuditConfig:
        """These settings overridden by every option that is not None (command line wins).

        ``sensitive`` replaces the configured list when non-empty; ``reference`` entries
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
            elif name == "reference":
                value = {**self.reference, **value}
            elif name == "join":
                value = JoinMode(value)
            elif name == "task":
                value = Task(value)
            changes[name] = value
        return dataclasses.replace(self, **changes)

    def column_mapping(self) -> ColumnMapping:
        """The column mapping these settings describe; InputError when the label is not set."""
        if not self.label:
            raise InputError(
                "no label column given; expected --label COLUMN or `label` in " + CONFIG_NAME
            )
        return ColumnMapping(
            label=self.label,
            prediction=self.prediction,
            score=self.score,
            threshold=self.threshold,
            pos_label=self.pos_label,
            sensitive=self.sensitive,
            id_column=self.id,
            join=self.join,
            missing_as_group=bool(self.missing_as_group),
            drop_missing=bool(self.drop_missing),
            max_groups=1000 if self.max_groups is None else self.max_groups,
            default_na=True if self.default_na is None else self.default_na,
            task=self.task or Task.BINARY_CLASSIFICATION,
            weight=self.weight,
        )


# TOML key -> (field name, kind).
KEYS: dict[str, tuple[str, str]] = {
    "data": ("data", "path"),
    "predictions": ("predictions", "path"),
    "id": ("id", "str"),
    "join": ("join", "join"),
    "label": ("label", "str"),
    "prediction": ("prediction", "str"),
    "score": ("score", "str"),
    "threshold": ("threshold", "number"),
    "pos-label": ("pos_label", "text"),
    "sensitive": ("sensitive", "strings"),
    "reference": ("reference", "table"),
    "model": ("model", "path"),
    "model-name": ("model_name", "str"),
    "model-version": ("model_version", "text"),
    "missing-as-group": ("missing_as_group", "bool"),
    "drop-missing": ("drop_missing", "bool"),
    "max-groups": ("max_groups", "count"),
    "policy": ("policy", "path"),
    "min-group-size": ("min_group_size", "count"),
    "task": ("task", "task"),
    "default-na": ("default_na", "bool"),
    "weight": ("weight", "str"),
    "standard": ("standard", "str"),
    "nyc-ll144": ("standard_settings", "settings"),
}
EXPECTED = {
    "path": "a path (string)",
    "str": "a string",
    "text": "a string or a number",
    "join": "'id' or 'row-order'",
    "number": "a number",
    "strings": "a list of strings",
    "table": "a table of feature = group",
    "bool": "true or false",
    "count": "a positive integer",
    "task": "'binary_classification', 'regression' or 'multiclass_classification'",
    "settings": "a table",
}


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return None


def _convert(kind: str, value: Any, base: Path) -> Any:
    """The typed value, or None when ``value`` does not have the expected type."""
    if kind in ("path", "str"):
        if not isinstance(value, str) or not value:
            return None
        return base / value if kind == "path" else value
    if kind == "text":
        return _scalar_text(value)
    if kind == "join":
        return JoinMode(value) if value in {m.value for m in JoinMode} else None
    if kind == "task":
        return Task(value) if value in {m.value for m in Task} else None
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else None
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if kind == "settings":  # checked key by key where the standard is applied
        return dict(value) if isinstance(value, dict) else None
    if kind == "count":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return value if ok else None
    if kind == "strings":
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
        name, kind = KEYS[key]
        converted = _convert(kind, value, source.parent)
        if converted is None:
            raise ConfigError(
                f"{source}: key {where + key!r} must be {EXPECTED[kind]}; found {value!r}"
            )
        values[name] = converted
    return AuditConfig(source=source, **values)


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
        document = tomllib.loads(read_regular(found, error=ConfigError).decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{found}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{found}: cannot read the config file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{found}: invalid TOML ({exc})") from None
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
