"""Durations as people write them: a whole number and one unit, s m h d or w (`30s`, `5m`, `1h`, `7d`, `2w`).

The one parser and formatter for every duration WARD FLUX reads or writes: rule and trigger expressions, template
documents' `for:`, the ping history window, what the Zabbix importer translates. One rule about 0: a duration is
longer than 0; a caller for which 0 means something (Zabbix's "delay 0") says so with `minimum=0`.
"""
from __future__ import annotations

import re

from wardsite.text import quote

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str, *, minimum: int = 1) -> int:
    """'90s', '5m', '1h' -> seconds; ValueError saying what is accepted, or that it is shorter than `minimum`."""
    match = _DURATION.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"{quote(str(text))} is not a duration: write a whole number and s, m, h, d or w, e.g. 5m")
    seconds = int(match[1]) * UNITS[match[2]]
    if seconds < minimum:
        shortest = "longer than 0" if minimum == 1 else f"at least {format_duration(minimum)}"
        raise ValueError(f"{quote(str(text))}: a duration must be {shortest}")
    return seconds


def format_duration(seconds: int) -> str:
    """300 -> '5m': in the largest unit that divides it (0 -> '0s'), so parse_duration reads it back."""
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % UNITS[unit] == 0:
            return f"{seconds // UNITS[unit]}{unit}"
    return f"{seconds}s"
