"""Each device's last counter samples between polls, in Redis: one JSON value per device, read and written for a
whole batch in one round trip each (rates need the previous sample; a worker restart must not lose it)."""
from __future__ import annotations

import json

from snmp.counters import CounterSample
from wardsite import kv

KEY = "wardflux:snmp:counter-state:{device_id}"  # JSON: metrics.*_key -> [value, bits, uptime ticks, at]
TTL_SECONDS = 7 * 86400


def load(device_ids: list[int]) -> dict[int, dict[str, CounterSample]]:
    """The stored samples of each device (empty for a device never polled, or whose state is unreadable)."""
    stored = kv.connection().mget([KEY.format(device_id=pk) for pk in device_ids]) if device_ids else []
    return {pk: _decode(raw) for pk, raw in zip(device_ids, stored)}


def save(states: dict[int, dict[str, CounterSample]]) -> None:
    """Store each device's samples (its whole state: what it had, updated by the poll)."""
    pipe = kv.connection().pipeline(transaction=False)
    for pk, samples in states.items():
        if samples:
            value = {name: [s.value, s.bits, s.uptime_ticks, s.at] for name, s in samples.items()}
            pipe.set(KEY.format(device_id=pk), json.dumps(value, separators=(",", ":")), ex=TTL_SECONDS)
    pipe.execute()


def _decode(raw: bytes | None) -> dict[str, CounterSample]:
    if raw is None:
        return {}
    try:
        return {name: CounterSample(*fields) for name, fields in json.loads(raw).items()}
    except (ValueError, TypeError, AttributeError):  # not ours or damaged: rates start over from this poll
        return {}
