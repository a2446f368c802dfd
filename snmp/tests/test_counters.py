"""Counter samples to rates: every edge case by name, then properties over many samples."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snmp.counters import (
    CounterSample,
    bits_per_second,
    counter_delta,
    elapsed_seconds,
    prefer_hc,
    rate_per_second,
)

C32 = 2**32
GIGABIT_OCTETS = 125_000_000  # 1 Gbit/s in octets per second


def sample(value: int, *, bits: int = 32, uptime_s: float | None = 1000.0, at: float = 0.0) -> CounterSample:
    """A sample whose uptime is given in seconds, to keep the cases readable."""
    ticks = None if uptime_s is None else round(uptime_s * 100) % C32
    return CounterSample(value, bits, ticks, at)


def pair(
    prev_value: int, cur_value: int, *, seconds: float = 60.0, bits: int = 32
) -> tuple[CounterSample, CounterSample]:
    """Two samples `seconds` apart by both sysUpTime and wall clock."""
    return (
        sample(prev_value, bits=bits, uptime_s=1000.0, at=5000.0),
        sample(cur_value, bits=bits, uptime_s=1000.0 + seconds, at=5000.0 + seconds),
    )


def test_it_computes_a_normal_increase():
    prev, cur = pair(1_000, 7_000)
    assert counter_delta(prev, cur) == 6_000
    assert rate_per_second(prev, cur) == 100.0


def test_it_uses_sysuptime_not_the_wall_clock():
    # The response came back 3 s late; the device's own clock says 60 s passed.
    prev = sample(0, uptime_s=1000, at=5000)
    cur = sample(6_000, uptime_s=1060, at=5063)
    assert elapsed_seconds(prev, cur) == 60.0
    assert rate_per_second(prev, cur) == 100.0


def test_it_falls_back_to_the_wall_clock_without_uptime():
    prev = sample(0, uptime_s=None, at=5000)
    cur = sample(3_000, uptime_s=1060, at=5030)
    assert elapsed_seconds(prev, cur) == 30.0
    assert rate_per_second(prev, cur) == 100.0


def test_it_unwraps_a_32_bit_counter():
    prev, cur = pair(C32 - 1_000, 5_000)
    assert counter_delta(prev, cur) == 6_000
    assert rate_per_second(prev, cur, max_rate_per_s=GIGABIT_OCTETS) == 100.0


def test_it_treats_a_64_bit_decrease_as_a_reset():
    prev, cur = pair(2**64 - 1_000, 5_000, bits=64)
    assert counter_delta(prev, cur) is None
    assert rate_per_second(prev, cur) is None


def test_it_gives_no_rate_when_uptime_went_back():
    prev = sample(C32 - 1_000, uptime_s=86_400, at=5000)
    cur = sample(5_000, uptime_s=30, at=5060)  # rebooted: the counter restarted too
    assert elapsed_seconds(prev, cur) is None
    assert rate_per_second(prev, cur) is None


def test_it_gives_no_rate_when_the_device_restarted_between_polls():
    # Uptime went forward, but the device has been up 120 s and our last poll was 600 s ago.
    prev = sample(9_000_000, uptime_s=60, at=5000)
    cur = sample(9_500_000, uptime_s=120, at=5600)
    assert elapsed_seconds(prev, cur) is None


def test_it_follows_sysuptime_across_its_497_day_wrap():
    prev = sample(1_000, uptime_s=(C32 - 1_000) / 100, at=5000)  # 10 s before TimeTicks wrap
    cur = sample(7_000, uptime_s=50, at=5060)  # 50 s after it
    assert elapsed_seconds(prev, cur) == 60.0
    assert rate_per_second(prev, cur) == 100.0


def test_it_treats_a_restart_right_after_the_uptime_wrap_as_a_restart():
    prev = sample(1_000, uptime_s=(C32 - 1_000) / 100, at=5000)
    cur = sample(7_000, uptime_s=50, at=8600)  # the wrap would mean 60 s, the wall clock says an hour
    assert elapsed_seconds(prev, cur) is None


def test_it_treats_a_decrease_too_fast_for_the_link_as_a_reset():
    # Counters cleared on a 1 Gbit/s port: a wrap would mean ~4.3 GB in 60 s, above line rate.
    prev, cur = pair(100_000, 2_000)
    assert counter_delta(prev, cur, max_rate_per_s=GIGABIT_OCTETS / 10) is None
    assert rate_per_second(prev, cur, max_rate_per_s=GIGABIT_OCTETS / 10) is None


def test_it_accepts_a_wrap_within_line_rate():
    prev, cur = pair(C32 - 3_000_000_000, 1_000_000_000, seconds=60)  # 4e9 octets in 60 s on 1 Gbit/s
    assert counter_delta(prev, cur, max_rate_per_s=GIGABIT_OCTETS) == 4_000_000_000


def test_it_gives_no_rate_for_zero_elapsed_time():
    prev = sample(1_000, uptime_s=1000, at=5000)
    cur = sample(1_000, uptime_s=1000, at=5000)
    assert elapsed_seconds(prev, cur) is None
    assert rate_per_second(prev, cur) is None


def test_it_gives_no_rate_when_the_wall_clock_went_back_without_uptime():
    prev = sample(1_000, uptime_s=None, at=5000)
    cur = sample(2_000, uptime_s=None, at=4990)
    assert rate_per_second(prev, cur) is None


def test_it_clamps_at_interface_speed():
    prev, cur = pair(0, 60 * 200, seconds=60)  # 200/s on a link of 150/s
    assert rate_per_second(prev, cur, max_rate_per_s=150) == 150


def test_it_reports_bits_per_second_clamped_at_speed():
    prev, cur = pair(0, 60 * 1_000_000, bits=64)  # 1 MB/s = 8 Mbit/s
    assert bits_per_second(prev, cur, speed_bps=100_000_000) == 8_000_000
    assert bits_per_second(prev, cur, speed_bps=1_000_000) == 1_000_000
    assert bits_per_second(prev, cur, speed_bps=0) == 8_000_000  # speed unknown: no clamp


def test_it_refuses_to_compare_counters_of_different_widths():
    prev = sample(1_000, bits=32, uptime_s=1000, at=5000)
    cur = sample(2_000, bits=64, uptime_s=1060, at=5060)
    assert counter_delta(prev, cur) is None


@pytest.mark.parametrize(
    ("value", "bits", "uptime"),
    [(-1, 32, 0), (C32, 32, 0), (2**64, 64, 0), (0, 16, 0), (0, 32, -1), (0, 32, C32)],
)
def test_it_rejects_impossible_samples(value, bits, uptime):
    with pytest.raises(ValueError):
        CounterSample(value, bits, uptime, 0.0)


def test_it_prefers_hc_counters():
    hc, legacy = sample(5_000_000_000, bits=64), sample(705_032_704)
    assert prefer_hc(hc, legacy) is hc
    assert prefer_hc(None, legacy) is legacy  # v1 agents, or no ifXTable
    assert prefer_hc(hc, None) is hc
    assert prefer_hc(None, None) is None


def test_it_falls_back_when_the_hc_counter_is_stuck_at_zero():
    hc, legacy = sample(0, bits=64), sample(12_345)
    assert prefer_hc(hc, legacy) is legacy
    idle_hc = sample(0, bits=64)
    assert prefer_hc(idle_hc, sample(0)) is idle_hc  # both zero: an idle link


# Properties: uptimes and wall clock agree (the device is healthy), anything may happen to the counter.
uptimes = st.integers(min_value=0, max_value=C32 - 1)
intervals = st.integers(min_value=100, max_value=3600 * 100)  # 1 s .. 1 h, in ticks


@given(prev_value=st.integers(0, C32 - 1), increase=st.integers(0, C32 - 1), uptime=uptimes, ticks=intervals)
def test_any_32_bit_increase_survives_a_wrap(prev_value, increase, uptime, ticks):
    prev = CounterSample(prev_value, 32, uptime, 0.0)
    cur = CounterSample((prev_value + increase) % C32, 32, (uptime + ticks) % C32, ticks / 100)
    plausible_rate = increase / (ticks / 100)
    assert counter_delta(prev, cur, max_rate_per_s=plausible_rate) == increase
    assert counter_delta(prev, cur) == increase


@given(
    prev_value=st.integers(0, 2**64 - 1),
    cur_value=st.integers(0, 2**64 - 1),
    bits=st.sampled_from([32, 64]),
    prev_uptime=st.one_of(st.none(), uptimes),
    cur_uptime=st.one_of(st.none(), uptimes),
    wall=st.floats(min_value=-10, max_value=1e6),
    limit=st.one_of(st.none(), st.floats(min_value=1, max_value=1e12)),
)
def test_rates_are_never_negative_nor_above_the_limit(
    prev_value, cur_value, bits, prev_uptime, cur_uptime, wall, limit
):
    modulus = 2**bits
    prev = CounterSample(prev_value % modulus, bits, prev_uptime, 1000.0)
    cur = CounterSample(cur_value % modulus, bits, cur_uptime, 1000.0 + wall)
    rate = rate_per_second(prev, cur, max_rate_per_s=limit)
    assert rate is None or rate >= 0
    if rate is not None and limit is not None:
        assert rate <= limit


@given(prev_value=st.integers(1, 2**64 - 1), drop=st.integers(1, 2**64 - 1), uptime=uptimes, ticks=intervals)
def test_a_64_bit_counter_that_went_down_never_gives_a_rate(prev_value, drop, uptime, ticks):
    prev = CounterSample(prev_value, 64, uptime, 0.0)
    cur = CounterSample(max(prev_value - drop, 0), 64, (uptime + ticks) % C32, ticks / 100)
    assert rate_per_second(prev, cur) is None


@given(uptime=uptimes, ticks=intervals, jitter=st.floats(min_value=-5, max_value=5))
def test_elapsed_time_follows_sysuptime_through_wraps(uptime, ticks, jitter):
    prev = CounterSample(0, 32, uptime, 0.0)
    cur = CounterSample(0, 32, (uptime + ticks) % C32, ticks / 100 + jitter)
    assert elapsed_seconds(prev, cur) == ticks / 100
