"""Counter samples kept between polls in Redis (the real one of the test settings)."""
import pytest

from snmp import counter_state
from snmp.counters import CounterSample
from wardsite import kv

pytestmark = pytest.mark.usefixtures("snmp_counter_state")


def test_each_devices_samples_come_back_as_stored():
    first = {"if:1:in_octets": CounterSample(2**64 - 5, 64, 4_000_000, 1_700_000_000.25),
             "item:9": CounterSample(17, 32, None, 1_700_000_000.5)}
    counter_state.save({901: first, 902: {}})
    assert counter_state.load([901, 902, 903]) == {901: first, 902: {}, 903: {}}


@pytest.mark.parametrize("raw", [b"not json", b'{"if:1:in_octets": [1, 16, null, 1.0]}', b'[1, 2]'])
def test_a_damaged_state_starts_the_rates_over_instead_of_failing_the_batch(raw):
    kv.connection().set(counter_state.KEY.format(device_id=904), raw)
    good = {"if:2:out_octets": CounterSample(5, 32, 100, 1.0)}
    counter_state.save({905: good})
    assert counter_state.load([904, 905]) == {904: {}, 905: good}
