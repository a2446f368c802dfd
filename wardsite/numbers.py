"""Measured values as a person reads them: rounded, without trailing zeros. The stored values stay raw."""
from __future__ import annotations

import math

SIGNIFICANT_DIGITS = 4  # of values of any kind (alert values, items)
# what a person reads of the ping measurements
RTT_DECIMALS = 2  # 0.01 ms
LOSS_DECIMALS = 1  # 0.1 %
AVAILABILITY_DECIMALS = 2  # 0.01 %


def readable(value: float, decimals: int | None = None) -> str:
    """`value` as a person reads it, never in exponent notation. With `decimals` (a measurement's resolution) it is
    rounded to that many places, a whole number shown whole: 0.1 -> "0.10", 0.0 -> "0" for two. Without, it keeps
    four significant digits and no trailing zeros: 0.04363059997558594 -> "0.04363", 2.50 -> "2.5"."""
    if not math.isfinite(value):
        return str(value)
    trim = decimals is None
    if trim:
        magnitude = math.floor(math.log10(abs(value))) if value else 0
        decimals = max(0, SIGNIFICANT_DIGITS - 1 - magnitude)
    text = f"{value:.{decimals}f}"
    if "." in text and (trim or text.rstrip("0").endswith(".")):
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def with_prefix(value: float, unit: str) -> str:
    """`value` with an SI prefix, as people read rates: 12_345_678 "bit/s" -> "12.35 Mbit/s", 950 -> "950 bit/s"."""
    for prefix, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{readable(value / size, 2)} {prefix}{unit}"
    return f"{readable(value, 0)} {unit}"
