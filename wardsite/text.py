"""Values from outside, quoted in messages: at most a short prefix, so a 100 kB bad value gives a short error."""
from __future__ import annotations

QUOTE_LIMIT = 60  # characters of an offending value an error message repeats


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """`value` as repr() shows it, cut to `limit` characters: 'abc' or 'abc…' (1,234 characters)."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return repr(value)
    shown = repr(text[:limit] + "…") if isinstance(value, str) else text[:limit] + "…"
    return f"{shown} ({len(text):,} characters)"


def shorten(text: str, limit: int = 200) -> str:
    """A message (e.g. a library's error that repeats its input) cut to `limit` characters."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"
