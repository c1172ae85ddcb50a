"""Data files for the report tests: a slice of the sample data, and hostile group names."""

from __future__ import annotations

import csv
from pathlib import Path

HOSTILE_NAMES = (
    "<script>alert(1)</script>",
    "</svg><img src=x onerror=alert(2)>",
    "\"quoted' & <b>",
    "\u202eevil\u202c",
    "\x1b[2J\x1b[31mred",
    "$\\frac{1}{0}$",
)


def write_hostile_csv(path: Path, per_group: int = 40) -> Path:
    """Binary labels and predictions for groups whose names attack every renderer."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["group", "label", "pred"])
        for g, name in enumerate(HOSTILE_NAMES):
            for i in range(per_group):
                writer.writerow([name, (i * 7 + g) % 2, (i * (g + 2) // 3) % 2])
    return path
