"""The input options of an audit, declared once.

Every option that shapes an audit is one :class:`InputOption` in :data:`OPTIONS`: its name (the
keyword of :func:`bias_ledger.audit` and the field of the config file's settings), its command
line flag, its config file key, its default, and the key it is recorded under in a record's
``parameters`` (or why it is not recorded there). The CLI builds ``audit`` and ``gate``'s options
from this list, the config loader its keys, and the audit its recorded parameters;
``tests/cli/test_input_options.py`` checks that the typed faces (the ``audit()`` signature and
the config dataclass) hold exactly these options, and that the three faces given the same
values record the same parameters.

Adding an option (as ``--weight COL`` was): one entry here; the field of the same name in
:class:`bias_ledger.io.config.AuditConfig` and the keyword of :func:`bias_ledger.audit` (typed
faces, checked by the test); where the core uses it (``mapping_from_options`` or
``request_from_options`` in :mod:`bias_ledger._request`); its recorded key in
``parameters_json`` (:mod:`bias_ledger._audit`) unless ``unrecorded`` says why not; and its row
in the README's options table. The CLI's ``audit`` and ``gate`` options and the config file's
key need nothing more.

Imported by the CLI at startup: it imports nothing beyond the standard library and the errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bias_ledger.errors import InputError


class Kind(StrEnum):
    """The type of an option's value, and how the config file spells it."""

    PATH = "path"
    """A file (config: a string; relative paths resolve against the config file)."""
    STR = "str"
    """A column name or other non-empty string."""
    TEXT = "text"
    """A value compared as text (config: a string or a number)."""
    NUMBER = "number"
    """A real number."""
    COUNT = "count"
    """A non-negative integer."""
    FLAG = "flag"
    """True or false."""
    CHOICE = "choice"
    """One of the option's ``choices``."""
    NAMES = "names"
    """A list of strings (CLI: the option repeated)."""
    GROUPS = "groups"
    """Feature -> group (CLI: ``--reference FEATURE=GROUP``, repeated; config: a table)."""
    NUMBERS = "numbers"
    """A list of numbers (CLI: comma-separated)."""


DEFAULT_MAX_GROUPS = 1000
DEFAULT_MIN_GROUP_SIZE = 30
DEFAULT_CI_LEVEL = 0.95
DEFAULT_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
TASKS = ("binary_classification", "regression", "multiclass_classification")
JOINS = ("id", "row-order")
ENGINES = ("arrow", "duckdb", "spark")

COMMANDS = frozenset({"audit", "gate"})


@dataclass(frozen=True)
class InputOption:
    """One input option of an audit, as every face of it spells it."""

    name: str
    """The keyword of :func:`bias_ledger.audit`, the settings field of the config file, and the
    parameter name of the CLI command."""
    help: str
    """The one-line help text (CLI ``--help``)."""
    kind: Kind
    default: Any = None
    """The value when neither the command line, the config file nor the caller sets it."""
    flag: str | None = ""
    """The command-line option; by default ``--`` and the name with dashes; None when the
    option has none (``unflagged`` says why)."""
    config: str | None = ""
    """The config file key; by default the name with dashes; None when the config file cannot
    set it (``unconfigured`` says why)."""
    recorded: str | None = ""
    """The key of the record's ``parameters`` that holds the value; by default the name; None
    when it is not recorded there (``unrecorded`` says why)."""
    unrecorded: str = ""
    unconfigured: str = ""
    unflagged: str = ""
    choices: tuple[str, ...] = ()
    """The values a CHOICE option accepts."""
    negated: bool = False
    """The flag sets the option to False (``--no-default-na`` sets ``default_na``)."""
    param: str = ""
    """The CLI command's parameter name (``ctx.params`` key) when it is not ``name``."""
    commands: frozenset[str] = COMMANDS
    """The commands taking the flag."""

    def __post_init__(self) -> None:
        # Unless an entry says otherwise, every face spells the option after its name.
        dashed = self.name.replace("_", "-")
        derived = {
            "flag": None if self.unflagged else f"--{dashed}",
            "config": None if self.unconfigured else dashed,
            "recorded": None if self.unrecorded else self.name,
        }
        for field, value in derived.items():
            if getattr(self, field) == "":
                object.__setattr__(self, field, value)

    @property
    def cli_param(self) -> str:
        """The CLI command's parameter name for this option."""
        return self.param or self.name


_IN_INPUTS = "the input's name, size and digests are recorded in the record's `inputs`"
_IN_SUBJECT = "recorded in the record's `subject`"
_WHERE_NOT_WHAT = "where rows are counted, not what is counted: the numbers are the same"

OPTIONS: tuple[InputOption, ...] = (
    InputOption(
        "data",
        "Dataset file, as an option (instead of the DATA argument).",
        Kind.PATH,
        param="data_file",
        unrecorded=_IN_INPUTS,
    ),
    InputOption(
        "predictions",
        "Separate predictions file, joined on --id.",
        Kind.PATH,
        unrecorded=_IN_INPUTS,
    ),
    InputOption(
        "id_column", "Id column joining the two files.", Kind.STR, flag="--id", config="id"
    ),
    InputOption(
        "join",
        "'id' (with --id) or 'row-order' (same row counts required).",
        Kind.CHOICE,
        choices=JOINS,
    ),
    InputOption(
        "label",
        "True label column (0/1, true/false or two values with --pos-label; numbers for "
        "--task regression; classes for multiclass).",
        Kind.STR,
    ),
    InputOption("prediction", "Predicted label column (same kind of values as --label).", Kind.STR),
    InputOption("pos_label", "Label value counted as positive.", Kind.TEXT),
    InputOption("score", "Model score column.", Kind.STR),
    InputOption("threshold", "Predict positive when score >= threshold.", Kind.NUMBER),
    InputOption(
        "sensitive", "Sensitive feature column; repeat for intersections.", Kind.NAMES, default=()
    ),
    InputOption(
        "references",
        "Reference group, FEATURE=GROUP (default: largest).",
        Kind.GROUPS,
        flag="--reference",
        param="reference",
        config="reference",
    ),
    InputOption(
        "model",
        "Model artifact file to fingerprint.",
        Kind.PATH,
        unrecorded="its name, size and digests are " + _IN_SUBJECT,
    ),
    InputOption("model_name", "Model name.", Kind.STR, unrecorded=_IN_SUBJECT),
    InputOption("model_version", "Model version.", Kind.TEXT, unrecorded=_IN_SUBJECT),
    InputOption(
        "missing_as_group", "A missing sensitive value is its own group.", Kind.FLAG, default=False
    ),
    InputOption(
        "drop_missing",
        "Drop rows missing label/prediction (reports count).",
        Kind.FLAG,
        default=False,
    ),
    InputOption(
        "default_na",
        'Only empty CSV cells are missing; "NA", "N/A", "null", "NaN" ... are values '
        "(a group may be named NA).",
        Kind.FLAG,
        default=True,
        flag="--no-default-na",
        negated=True,
        param="no_default_na",
    ),
    InputOption(
        "max_groups",
        f"Max groups per feature (default {DEFAULT_MAX_GROUPS}).",
        Kind.COUNT,
        default=DEFAULT_MAX_GROUPS,
    ),
    InputOption(
        "task",
        "binary_classification (default), regression or multiclass_classification.",
        Kind.CHOICE,
        default=TASKS[0],
        choices=TASKS,
    ),
    InputOption(
        "min_group_size",
        "Smaller groups are 'insufficient data' and left out of disparities and summaries "
        f"(default {DEFAULT_MIN_GROUP_SIZE}).",
        Kind.COUNT,
        default=DEFAULT_MIN_GROUP_SIZE,
    ),
    InputOption(
        "ci",
        f"Confidence level of intervals (default {DEFAULT_CI_LEVEL}; 0 for none).",
        Kind.NUMBER,
        default=DEFAULT_CI_LEVEL,
        recorded="ci_level",
    ),
    InputOption(
        "bootstrap",
        "Bootstrap resamples for intervals on every metric, disparity and summary "
        "(default 0: Wilson intervals on per-group rates).",
        Kind.COUNT,
        default=0,
    ),
    InputOption("seed", "Bootstrap seed (default: drawn and recorded).", Kind.COUNT),
    InputOption(
        "thresholds",
        "Thresholds of the per-group sweep over --score, comma-separated "
        "(default 0.1,0.2,...,0.9).",
        Kind.NUMBERS,
        default=DEFAULT_THRESHOLDS,
    ),
    InputOption(
        "engine",
        "Where rows are counted: arrow (default), duckdb (files, directories, globs, "
        "hive-partitioned Parquet) or spark.",
        Kind.CHOICE,
        default=ENGINES[0],
        choices=ENGINES,
    ),
    InputOption(
        "spark_master",
        "Spark master URL for --engine spark (default local[*], or $SPARK_REMOTE).",
        Kind.STR,
        unrecorded=_WHERE_NOT_WHAT,
    ),
    InputOption(
        "table",
        "A Spark catalog table to audit (--engine spark).",
        Kind.STR,
        # Not `table`, which a mistyped `label` would be taken for.
        config="spark-table",
        unrecorded="the table is recorded as the input `table:NAME` in the record's `inputs`",
    ),
    InputOption(
        "weight",
        "Sample-weight column (fairlearn's sample_weight): counts and rates are weighted; "
        "no intervals or significance tests.",
        Kind.STR,
    ),
    InputOption(
        "sample_weight",
        "Sample weights as an array aligned with the rows of an in-memory table.",
        Kind.NUMBERS,
        unflagged="the command line reads files: --weight names their weight column",
        unconfigured="the config file names files: `weight` names their weight column",
        unrecorded="the weights are audited as the column `sample_weight`, recorded as `weight`",
    ),
    InputOption(
        "data_name",
        "The name an in-memory table is recorded under.",
        Kind.STR,
        unflagged="the command line reads files, which are recorded under their own names",
        unconfigured="the config file names files, which are recorded under their own names",
        unrecorded="it is the name of the input in the record's `inputs`",
    ),
    InputOption(
        "predictions_name",
        "The name an in-memory predictions table is recorded under.",
        Kind.STR,
        unflagged="the command line reads files, which are recorded under their own names",
        unconfigured="the config file names files, which are recorded under their own names",
        unrecorded="it is the name of the input in the record's `inputs`",
    ),
)
"""Every input option, in ``--help`` order."""

BY_NAME: dict[str, InputOption] = {option.name: option for option in OPTIONS}
BY_CONFIG_KEY: dict[str, InputOption] = {
    option.config: option for option in OPTIONS if option.config is not None
}

DERIVED_PARAMETERS: dict[str, str] = {
    "positive_label": "the label value the audit counted as positive, found in the data",
    "classes": "the class names the audit found in the data",
    "impact_ratio_denominator": "the rule this version divides impact ratios by; older records "
    "recompute with their own",
}
"""The recorded parameters no option sets, and what they hold."""


def option(name: str) -> InputOption:
    """The option called ``name``; KeyError naming the known ones otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no input option {name!r}; known: {', '.join(BY_NAME)}") from None


def defaults() -> dict[str, Any]:
    """Every option's default value, by name."""
    return {item.name: item.default for item in OPTIONS}


def recorded_keys() -> frozenset[str]:
    """The keys of a record's ``parameters`` that options set."""
    return frozenset(item.recorded for item in OPTIONS if item.recorded is not None)


def _choices(choices: tuple[str, ...]) -> str:
    return ", ".join(choices)


def resolved(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every option they leave out at its default; TypeError for an unknown
    name, InputError for a value outside a choice option's choices."""
    unknown = sorted(set(values) - set(BY_NAME))
    if unknown:
        raise TypeError(f"unknown input option {unknown[0]!r}")
    merged = {**defaults(), **values}
    for item in OPTIONS:
        value = merged[item.name]
        if item.kind is Kind.CHOICE and value is not None and str(value) not in item.choices:
            raise InputError(
                f"{item.flag} {str(value)!r}: expected one of {_choices(item.choices)}"
            )
    return merged
