"""Samples and the Prometheus exposition format they are written in (wardsite.victoria sends them): names checked
when a sample is made, label values escaped, one line per sample."""
from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wardsite.text import quote

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_LABEL_VALUE_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})


@functools.lru_cache(maxsize=4096)
def _name_problem(name: str, label_names: tuple) -> str:
    """What is wrong with a sample's metric name or label names, or ""; remembered per metric and set of label
    names (every sample of every poll names them, and a collector's samples share a few)."""
    if not (isinstance(name, str) and _METRIC_NAME.fullmatch(name)):
        return f"invalid metric name {name!r}"
    bad = next((label for label in label_names if not (isinstance(label, str) and LABEL_NAME.fullmatch(label))), None)
    return "" if bad is None else f"invalid label name {quote(bad)} on metric {name}"


def escape_label_value(value: str) -> str:
    """A label value as it goes between double quotes, in the exposition format and in MetricsQL."""
    return value.translate(_LABEL_VALUE_ESCAPES)


@dataclass(slots=True)
class Sample:
    """One value of one series; names are checked here, so a bad one fails before any I/O. Not frozen: a frozen
    dataclass sets each field through object.__setattr__, and a poll makes a hundred samples per device."""

    name: str
    labels: Mapping[str, str]
    value: float
    timestamp_ms: int | None = None  # None: the time of write()

    def __post_init__(self) -> None:
        if problem := _name_problem(self.name, tuple(self.labels)):
            raise ValueError(problem)
        for label, value in self.labels.items():
            if not isinstance(value, str):  # the writer escapes text only; anything else would fail the whole write
                raise ValueError(f"label {label} on metric {self.name}: a value must be text, not {quote(value)}")


def format_samples(samples: Iterable[Sample], *, now_ms: int | None = None) -> str:
    """Prometheus exposition lines, timestamps in ms; samples without one get `now_ms` (default: now)."""
    now_ms = current_ms() if now_ms is None else now_ms
    formatted: dict[int, tuple[Mapping[str, str], str]] = {}  # id(labels) -> (labels, text): samples share them
    return "".join(_format_line(sample, now_ms, formatted) for sample in samples)


def _format_line(sample: Sample, now_ms: int, formatted: dict[int, tuple[Mapping[str, str], str]]) -> str:
    known = formatted.get(id(sample.labels))
    if known is not None and known[0] is sample.labels:  # held in `formatted`, so its id is not reused meanwhile
        labels = known[1]
    else:
        labels = ",".join(f'{name}="{escape_label_value(value)}"' for name, value in sample.labels.items())
        formatted[id(sample.labels)] = (sample.labels, labels)
    series = f"{sample.name}{{{labels}}}" if labels else sample.name
    timestamp = now_ms if sample.timestamp_ms is None else sample.timestamp_ms
    return f"{series} {_format_value(sample.value)} {timestamp}\n"


def _format_value(value: float) -> str:
    value = float(value)
    if math.isfinite(value):
        return repr(value)
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def current_ms() -> int:
    """Now, in milliseconds since the epoch (the exposition format's timestamps)."""
    return time.time_ns() // 1_000_000
