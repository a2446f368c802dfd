"""Argument types the benches share: a number out of range, or a list with one, is refused by argparse before
anything is built (exit code 2, naming the argument), not after minutes of setting a fleet up."""
from __future__ import annotations

import argparse
from collections.abc import Callable


def at_least(minimum: float, kind: type = int) -> Callable[[str], float]:
    """An argparse type: a number of `kind` (int or float) not below `minimum`."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}"
                                             ) from None
        if not value >= minimum:  # NaN too
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {text}")
        return value
    return parse


def sizes(text: str) -> list[int]:
    """An argparse type: comma-separated counts, each at least 1 (e.g. 1000,5000,10000)."""
    return [at_least(1)(part.strip()) for part in text.split(",")]
