"""The series names a rule may use: the device state, the pollers' own, WARD FLUX's own loops, and those of items
and template items."""
from __future__ import annotations

from devices.services import STATE_METRIC
from icmp.services import HISTORY_METRICS
from snmp.choices import ValueType
from snmp.metrics import series_names
from snmp.models import MonitoringItem
from templates_app.models import TemplateItem
from wardsite.heartbeats import STOPPED_METRIC


def known_metrics() -> frozenset[str]:
    """Every series name a rule may use: the device state, the pollers' own, and those of items and template items.

    A counter item is stored as `<metric>_total` (the raw counter) and `<metric>` (its rate per second).
    """
    names = {STATE_METRIC, STOPPED_METRIC, *series_names(), *HISTORY_METRICS}
    for metric, value_type in [*MonitoringItem.objects.values_list("metric", "value_type").distinct(),
                               *TemplateItem.objects.values_list("key", "value_type").distinct()]:
        names.add(metric)
        if value_type == ValueType.COUNTER:
            names.add(f"{metric}_total")
    return frozenset(names)


def unknown_metrics(names: set[str]) -> list[str]:
    """The names no poller, item or template item writes, sorted."""
    return sorted(names - known_metrics())
