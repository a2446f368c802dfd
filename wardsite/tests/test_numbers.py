from __future__ import annotations

import pytest

from wardsite.numbers import readable


@pytest.mark.parametrize(("value", "decimals", "shown"), [
    (0.04363059997558594, None, "0.04363"),  # four significant digits by default
    (93.456789, None, "93.46"),
    (123456789.4, None, "123456789"),  # never an exponent, never fewer whole digits
    (2.50, None, "2.5"),
    (0.1, 2, "0.10"),  # a resolution given: that many places...
    (0.0, 1, "0"),  # ... but a whole number shown whole
    (33.333333, 1, "33.3"),
    (99.996, 2, "100"),
    (-0.0001, 2, "0"),  # not "-0"
    (float("nan"), None, "nan"),
])
def test_it_rounds_to_what_a_person_reads(value, decimals, shown):
    assert readable(value, decimals) == shown
