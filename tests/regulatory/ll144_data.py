"""The hand-computed LL144 examples: data files built from small tables of counts."""

from __future__ import annotations

import csv
from pathlib import Path

# (sex, race_ethnicity, individuals, selected); "" is an unknown category.
SELECTION_CELLS = [
    ("male", "White", 30, 15),
    ("male", "Black", 20, 8),
    ("female", "White", 25, 10),
    ("female", "Black", 15, 9),
    ("female", "Asian", 1, 1),  # 1% of the data: may be excluded under the 2% rule
    ("", "White", 4, 2),  # unknown sex
    ("male", "", 5, 1),  # unknown race/ethnicity
]

# (sex, race_ethnicity, score) for a scoring-type tool; the full sample's median is 5.5.
SCORING_ROWS = [
    ("male", "White", 9),
    ("male", "White", 7),
    ("male", "Black", 5),
    ("male", "Black", 3),
    ("female", "White", 8),
    ("female", "White", 6),
    ("female", "Black", 4),
    ("female", "Black", 2),
    ("", "White", 10),
    ("male", "", 1),
]


def write_selection_csv(path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "sex", "race_ethnicity", "selected"])
        row = 0
        for sex, race, count, selected in SELECTION_CELLS:
            for i in range(count):
                row += 1
                writer.writerow([row, sex, race, 1 if i < selected else 0])
    return path


def write_scoring_csv(path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "sex", "race_ethnicity", "score"])
        for row, (sex, race, score) in enumerate(SCORING_ROWS, start=1):
            writer.writerow([row, sex, race, score])
    return path
