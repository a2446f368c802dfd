"""From one poll's `Reading` to VictoriaMetrics samples: pure functions, no I/O.

Series (every one labelled `device_id` and `device`; interface series also `ifIndex` and `ifName`):
- `snmp_up` 1/0, `snmp_uptime_seconds`, `snmp_poll_duration_seconds`, `snmp_poll_delay_seconds` (how late the
  poll started against its schedule);
- per interface: raw counters `snmp_if_<stem>_total` (stems in snmp.poller.COUNTER_COLUMNS: in_octets,
  out_octets, in_ucast_pkts, out_ucast_pkts, in_errors, out_errors, in_discards, out_discards), their rates
  `snmp_if_in_bps`/`snmp_if_out_bps` (bit/s, clamped at the interface speed) and `snmp_if_<stem>_per_second`,
  `snmp_if_oper_status`/`snmp_if_admin_status` (IF-MIB codes, 1 = up), `snmp_if_speed_bps`;
- per item: its `metric`, with its own labels too; for counter items that is the rate per second, the raw
  counter is `<metric>_total`. An item's value map turns raw values (as text) into the numbers stored.
Rates come from snmp.counters, from this sample and the previous one (kept between polls by the caller).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from snmp.choices import ValueType
from snmp.client import SNMPType, Value
from snmp.counters import CounterSample, bits_per_second, rate_per_second
from snmp.poller import COUNTER_COLUMNS, STATUS_COLUMNS, Reading
from wardsite.victoria import Sample

_COUNTER_BITS = {SNMPType.COUNTER32: 32, SNMPType.GAUGE32: 32, SNMPType.COUNTER64: 64}


@dataclass(frozen=True)
class ItemInfo:
    metric: str
    value_type: str
    labels: Mapping[str, str] = field(default_factory=dict)
    value_map: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class InterfaceInfo:
    name: str
    speed_bps: int | None


@dataclass(frozen=True)
class ItemResult:
    """An item's latest value as text, or why there is none."""

    value: str = ""
    error: str = ""


@dataclass
class Outcome:
    samples: list[Sample] = field(default_factory=list)
    counters: dict[str, CounterSample] = field(default_factory=dict)  # state key -> this poll's sample
    items: dict[int, ItemResult] = field(default_factory=dict)


def interface_key(if_index: int, stem: str) -> str:
    return f"if:{if_index}:{stem}"


def item_key(item_id: int) -> str:
    return f"item:{item_id}"


def build(reading: Reading, *, device: str, items: Mapping[int, ItemInfo], interfaces: Mapping[int, InterfaceInfo],
          previous: Mapping[str, CounterSample], delay_seconds: float | None) -> Outcome:
    """The samples, counter states and item results of one poll of device `device`."""
    out = Outcome()
    ts = int((reading.at or reading.started) * 1000)
    labels = {"device_id": str(reading.device_id), "device": device}
    out.samples.append(Sample("snmp_up", labels, 0.0 if reading.error else 1.0, ts))
    out.samples.append(Sample("snmp_poll_duration_seconds", labels, reading.duration, ts))
    if delay_seconds is not None:
        out.samples.append(Sample("snmp_poll_delay_seconds", labels, max(0.0, delay_seconds), ts))
    if reading.error:
        return out
    if reading.uptime_ticks is not None:
        out.samples.append(Sample("snmp_uptime_seconds", labels, reading.uptime_ticks / 100, ts))
    for item_id, value in reading.items.items():
        if item_id in items:
            try:
                _item(out, reading, item_id, items[item_id], value, labels, previous, ts)
            except (TypeError, ValueError, AttributeError) as exc:  # labels or value map malformed: this item only
                out.items[item_id] = ItemResult(value=value.text[:255], error=f"not written: {exc}")
    for if_index, info in interfaces.items():
        if_labels = {**labels, "ifIndex": str(if_index), "ifName": info.name}
        out.samples.extend(_interface(out, reading, if_index, info, if_labels, previous, ts))
    return out


def _counter_sample(reading: Reading, value: Value) -> CounterSample | None:
    bits = _COUNTER_BITS.get(value.type)
    if bits is None or not isinstance(value.value, int) or not 0 <= value.value < 2**bits:
        return None
    return CounterSample(value.value, bits, reading.uptime_ticks, reading.at)


def _interface(out: Outcome, reading: Reading, if_index: int, info: InterfaceInfo, labels: dict[str, str],
               previous: Mapping[str, CounterSample], ts: int) -> Iterator[Sample]:
    polled = False
    for stem, _, _ in COUNTER_COLUMNS:
        value = reading.counters.get((if_index, stem))
        sample = _counter_sample(reading, value) if value is not None else None
        if sample is None:
            continue
        polled = True
        key = interface_key(if_index, stem)
        out.counters[key] = sample
        yield Sample(f"snmp_if_{stem}_total", labels, float(sample.value), ts)
        prev = previous.get(key)
        if prev is None:
            continue
        if stem.endswith("_octets"):
            rate = bits_per_second(prev, sample, speed_bps=info.speed_bps)
            name = f"snmp_if_{stem.removesuffix('_octets')}_bps"
        else:
            rate, name = rate_per_second(prev, sample), f"snmp_if_{stem}_per_second"
        if rate is not None:
            yield Sample(name, labels, rate, ts)
    for status in ("oper_status", "admin_status"):
        if (if_index, status) in reading.statuses:
            polled = True
            yield Sample(f"snmp_if_{status}", labels, float(reading.statuses[if_index, status]), ts)
    if polled and info.speed_bps is not None:
        yield Sample("snmp_if_speed_bps", labels, float(info.speed_bps), ts)


def _item(out: Outcome, reading: Reading, item_id: int, info: ItemInfo, value: Value, labels: dict[str, str],
          previous: Mapping[str, CounterSample], ts: int) -> None:
    labels = {**info.labels, **labels}
    if value.missing:
        out.items[item_id] = ItemResult(error=f"{value.type.value}: the agent has no such OID")
        return
    text = value.text[:255]
    if info.value_type == ValueType.STRING:
        out.items[item_id] = ItemResult(value=text)
        return
    if info.value_type == ValueType.COUNTER:
        sample = _counter_sample(reading, value)
        if sample is None:
            out.items[item_id] = ItemResult(value=text, error=f"a {value.type.value} is not a counter")
            return
        key = item_key(item_id)
        out.counters[key] = sample
        out.samples.append(Sample(f"{info.metric}_total", labels, float(sample.value), ts))
        rate = rate_per_second(previous[key], sample) if key in previous else None
        if rate is not None:
            out.samples.append(Sample(info.metric, labels, rate, ts))
        out.items[item_id] = ItemResult(value=text)
        return
    number = info.value_map.get(text, _number(value))
    if number is None:
        out.items[item_id] = ItemResult(value=text, error=f"{text!r} is not a number")
        return
    if info.value_type == ValueType.INTEGER:
        number = float(int(number))
    out.samples.append(Sample(info.metric, labels, float(number), ts))
    out.items[item_id] = ItemResult(value=text)


def _number(value: Value) -> float | None:
    """Numeric types as they are; strings that hold a number (UCD laLoad sends "0.15") parsed."""
    if isinstance(value.value, int):
        return float(value.value)
    try:
        return float(value.text.strip().rstrip("%"))
    except ValueError:
        return None


def series_names() -> frozenset[str]:
    """Every series name the SNMP poller itself writes (device and interface series, not items)."""
    names = {"snmp_up", "snmp_poll_duration_seconds", "snmp_poll_delay_seconds", "snmp_uptime_seconds",
             "snmp_if_speed_bps", *(f"snmp_if_{status}" for status, _ in STATUS_COLUMNS)}
    for stem, _, _ in COUNTER_COLUMNS:
        names.add(f"snmp_if_{stem}_total")
        names.add(f"snmp_if_{stem.removesuffix('_octets')}_bps" if stem.endswith("_octets")
                  else f"snmp_if_{stem}_per_second")
    return frozenset(names)
