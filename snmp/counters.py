"""Turning consecutive SNMP counter samples into rates: pure functions, no I/O.

The rules, in the order they are applied:
- Time between samples comes from the device's sysUpTime (TimeTicks, hundredths of a
  second), so poller delays do not distort rates; wall clock only when an uptime is missing.
- sysUpTime going back means the agent restarted, unless the wall clock agrees with a
  TimeTicks wrap at 2^32 (every ~497 days). An uptime shorter than the time since the
  previous sample means a restart in between. Either way there is no rate for that interval.
- A Counter32 that went down wrapped, if the wrapped increase fits within `max_rate_per_s`
  over the elapsed time; otherwise it was reset. A Counter64 that went down was reset
  (it would take years at terabit rates to wrap). A reset gives no rate, never a spike.
- Rates are clamped at `max_rate_per_s` (the interface speed).

A Counter32 on a link faster than 2^32 octets per poll interval (about 570 Mbit/s at 60 s)
can wrap more than once between polls, which no rule can see: poll the HC (64-bit)
counters wherever the agent has them (see `prefer_hc`).
"""
from __future__ import annotations

from dataclasses import dataclass

TIMETICKS_PER_SECOND = 100
TIMETICKS_MODULUS = 2**32
# How far sysUpTime may disagree with the wall clock before we call it a restart
# (poll jitter, clock drift): the larger of these seconds and this share of the interval.
UPTIME_SLACK_SECONDS = 10.0
UPTIME_SLACK_SHARE = 0.1
# Line-rate traffic can read slightly above speed because counter and uptime are not
# sampled at the same instant; a wrap needing more than this is a reset.
WRAP_RATE_SLACK = 1.1


@dataclass(frozen=True)
class CounterSample:
    """One reading of one counter: its value and width, the device's sysUpTime and our clock."""

    value: int
    bits: int  # 32 or 64, from the type the agent sent (some agents send HC columns as Counter32)
    uptime_ticks: int | None  # sysUpTime in hundredths of a second, None if not polled
    at: float  # wall-clock seconds (time.time()) when the response arrived

    def __post_init__(self) -> None:
        if self.bits not in (32, 64):
            raise ValueError(f"counter width must be 32 or 64 bits, not {self.bits}")
        if not 0 <= self.value < 2**self.bits:
            raise ValueError(f"{self.value} is not a {self.bits}-bit counter value")
        if self.uptime_ticks is not None and not 0 <= self.uptime_ticks < TIMETICKS_MODULUS:
            raise ValueError(f"{self.uptime_ticks} is not a TimeTicks value")


def elapsed_seconds(prev: CounterSample, cur: CounterSample) -> float | None:
    """Seconds between two samples, or None if the device restarted or no time passed."""
    elapsed: float | None
    if prev.uptime_ticks is None or cur.uptime_ticks is None:
        elapsed = cur.at - prev.at
    else:
        elapsed = _uptime_elapsed(prev.uptime_ticks, cur.uptime_ticks, wall=cur.at - prev.at)
    return elapsed if elapsed is not None and elapsed > 0 else None


def _uptime_elapsed(prev_ticks: int, cur_ticks: int, *, wall: float) -> float | None:
    slack = max(UPTIME_SLACK_SECONDS, UPTIME_SLACK_SHARE * wall)
    if cur_ticks < prev_ticks:
        wrapped = (cur_ticks + TIMETICKS_MODULUS - prev_ticks) / TIMETICKS_PER_SECOND
        return wrapped if abs(wrapped - wall) <= slack else None
    if cur_ticks / TIMETICKS_PER_SECOND + slack < wall:
        return None  # up for less time than since the previous sample: restarted in between
    return (cur_ticks - prev_ticks) / TIMETICKS_PER_SECOND


def counter_delta(
    prev: CounterSample, cur: CounterSample, *, max_rate_per_s: float | None = None
) -> int | None:
    """How much the counter grew between two samples, or None after a restart or reset.

    `max_rate_per_s` (in counter units; None or 0 when unknown) judges whether a decrease
    of a Counter32 was a wrap; without it every Counter32 decrease counts as a wrap.
    """
    elapsed = elapsed_seconds(prev, cur)
    return None if elapsed is None else _increase(prev, cur, elapsed, max_rate_per_s)


def _increase(
    prev: CounterSample, cur: CounterSample, elapsed: float, max_rate_per_s: float | None
) -> int | None:
    if prev.bits != cur.bits:
        return None  # the agent switched columns (e.g. HC appeared): not one counter
    if cur.value >= prev.value:
        return cur.value - prev.value
    if cur.bits == 64:
        return None
    wrapped = cur.value + 2**32 - prev.value
    if max_rate_per_s and wrapped > max_rate_per_s * elapsed * WRAP_RATE_SLACK:
        return None
    return wrapped


def rate_per_second(
    prev: CounterSample, cur: CounterSample, *, max_rate_per_s: float | None = None
) -> float | None:
    """Counter units per second between two samples, at most `max_rate_per_s`; None when unknown.

    See counter_delta for `max_rate_per_s`.
    """
    elapsed = elapsed_seconds(prev, cur)
    if elapsed is None:
        return None
    delta = _increase(prev, cur, elapsed, max_rate_per_s)
    if delta is None:
        return None
    rate = delta / elapsed
    return min(rate, max_rate_per_s) if max_rate_per_s else rate


def bits_per_second(prev: CounterSample, cur: CounterSample, *, speed_bps: float | None) -> float | None:
    """Traffic in bit/s from two samples of an octet counter, at most the interface speed.

    Pass `speed_bps` as ifHighSpeed * 1e6 (or ifSpeed below 4.3 Gbit/s); None or 0 (as
    virtual interfaces report) when unknown, in which case nothing is clamped.
    """
    octets = rate_per_second(prev, cur, max_rate_per_s=speed_bps / 8 if speed_bps else None)
    return None if octets is None else octets * 8


def prefer_hc(hc: CounterSample | None, legacy: CounterSample | None) -> CounterSample | None:
    """The sample to use for an interface: the HC column's if usable, else the 32-bit column's.

    Pass what the agent returned, e.g. ifHCInOctets.N and ifInOctets.N (None where it returned
    nothing, as every v1 agent does for HC columns). An HC counter stuck at 0 while its
    32-bit twin moves is an agent bug, not an idle link.
    """
    if hc is not None and not (hc.value == 0 and legacy is not None and legacy.value):
        return hc
    return legacy
