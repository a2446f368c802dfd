"""Durations: one parser and one formatter for every duration read or written, with one rule about 0."""
from __future__ import annotations

import pytest

from wardsite.durations import format_duration, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("90s", 90), ("5m", 300), (" 1h ", 3600), ("7d", 604800), ("2w", 1209600), ("120m", 7200),
])
def test_it_reads_a_whole_number_and_one_unit(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("window", ["", "1", "5x", "1.5m", "5 m", "-1h", "1h30m"])
def test_it_refuses_anything_else_saying_what_it_takes(window):
    with pytest.raises(ValueError, match=r"is not a duration: write a whole number and s, m, h, d or w, e\.g\. 5m"):
        parse_duration(window)


@pytest.mark.parametrize("text", ["0s", "0h", "00m"])
def test_zero_is_no_duration_unless_the_caller_says_it_means_something(text):
    with pytest.raises(ValueError, match="a duration must be longer than 0"):
        parse_duration(text)
    assert parse_duration(text, minimum=0) == 0


def test_a_minimum_is_named_in_the_error():
    with pytest.raises(ValueError, match="'30s': a duration must be at least 1m"):
        parse_duration("30s", minimum=60)


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (45, "45s"), (90, "90s"), (300, "5m"), (7200, "2h"), (86400, "1d"), (1209600, "2w"), (93600, "26h"),
])
def test_it_writes_the_largest_unit_that_divides_and_reads_it_back(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text, minimum=0) == seconds
