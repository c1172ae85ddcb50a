"""Which text pyarrow's CSV conversion reads as a number: the one rule every engine applies to
a numeric column (score, regression values, weights) holding text.

pyarrow's float64 conversion (fast_float) takes spaces and tabs around, an optional sign,
digits with an optional point and exponent, ``inf``/``infinity`` and ``nan`` (with an
optional payload), in any case; not ``1_000``, ``1,5`` or a ``\\r`` around the number. Its
int64 conversion also reads hexadecimal (``0x10``), never in a float64 column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FLOAT = (
    r"^[ \t]*[+-]?(([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?"
    r"|[iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN]([(][0-9A-Za-z_]*[)])?)[ \t]*$"
)
HEX = r"^[ \t]*0[xX][0-9A-Fa-f]+[ \t]*$"
INTEGER = r"^[ \t]*-?[0-9]+[ \t]*$"
"""pyarrow's int64 conversion of decimal digits (``+1`` is a float to it)."""
NAN = r"^[ \t]*[+-]?[nN][aA][nN]([(][0-9A-Za-z_]*[)])?[ \t]*$"
"""NaN, which the arrow engine reads as a missing value."""


def not_numbers(values: Iterable[str], *, hexadecimal: bool = False) -> list[str]:
    """The ``values`` pyarrow's CSV conversion does not read as numbers, in order (``0x...``
    is a number when ``hexadecimal``: in a column read as integers)."""
    patterns = [re.compile(FLOAT)] + ([re.compile(HEX)] if hexadecimal else [])
    return [value for value in values if not any(pattern.match(value) for pattern in patterns)]
