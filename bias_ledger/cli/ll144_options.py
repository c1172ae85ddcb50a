"""The options of ``audit --standard nyc-ll144`` (and ``--purpose``), declared once."""

from __future__ import annotations

from typing import Annotated

import typer

StandardOpt = Annotated[
    str | None,
    typer.Option(
        "--standard",
        help="Audit by a regulation's rules: 'nyc-ll144' (NYC Local Law 144 bias audit tables; "
        "no --label needed). Also 'standard' in the config file or the policy.",
        show_default=False,
    ),
]
SexOpt = Annotated[
    str | None, typer.Option("--sex", help="(nyc-ll144) Sex column (default 'sex').")
]
RaceOpt = Annotated[
    str | None,
    typer.Option(
        "--race-ethnicity", help="(nyc-ll144) Race/ethnicity column (default 'race_ethnicity')."
    ),
]
UnknownOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--unknown",
        help="(nyc-ll144) A category value meaning unknown (besides missing); repeatable.",
    ),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        help="(nyc-ll144) FEATURE=CATEGORY under 2% of the data to leave out of the impact "
        "ratios (FEATURE: sex, race_ethnicity, intersectional with SEX/RACE); repeatable.",
    ),
]
JustificationOpt = Annotated[
    list[str] | None,
    typer.Option("--justification", help="(nyc-ll144) Why a category is excluded (recorded)."),
]
DataSourceOpt = Annotated[
    str | None, typer.Option("--data-source", help="(nyc-ll144) 'historical' or 'test' data.")
]
DataDescriptionOpt = Annotated[
    str | None,
    typer.Option("--data-description", help="(nyc-ll144) Source and explanation of the data."),
]
TestDataReasonOpt = Annotated[
    str | None,
    typer.Option(
        "--test-data-reason",
        help="(nyc-ll144) With test data: why historical data was not used, how it was made.",
    ),
]
AuditDateOpt = Annotated[
    str | None, typer.Option("--audit-date", help="(nyc-ll144) YYYY-MM-DD (default today, UTC).")
]
DistributionDateOpt = Annotated[
    str | None,
    typer.Option("--distribution-date", help="(nyc-ll144) The AEDT's distribution date."),
]
AuditorOpt = Annotated[
    str | None, typer.Option("--auditor", help="(nyc-ll144) The independent auditor.")
]
AuditorKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--auditor-key",
        help="(nyc-ll144) The auditor's key fingerprint; their 'approve' countersigns.",
    ),
]
PurposeOpt = Annotated[
    str | None,
    typer.Option(
        "--purpose",
        help="Why the sensitive (special-category) data was needed (EU AI Act Art. 10(5)); "
        "recorded.",
    ),
]
