"""Alert rules checked against the series that exist; acknowledging and resolving alerts."""
from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert
from icmp.services import HISTORY_METRICS
from snmp.choices import ValueType
from snmp.metrics import series_names
from snmp.models import MonitoringItem
from templates_app.models import TemplateItem


def known_metrics() -> frozenset[str]:
    """Every series name a rule may use: the pollers' own, and those of items and template items.

    A counter item is stored as `<metric>_total` (the raw counter) and `<metric>` (its rate per second).
    """
    names = set(series_names()) | set(HISTORY_METRICS)
    for metric, value_type in [*MonitoringItem.objects.values_list("metric", "value_type").distinct(),
                               *TemplateItem.objects.values_list("key", "value_type").distinct()]:
        names.add(metric)
        if value_type == ValueType.COUNTER:
            names.add(f"{metric}_total")
    return frozenset(names)


def unknown_metrics(names: set[str]) -> list[str]:
    """The names no poller, item or template item writes, sorted."""
    return sorted(names - known_metrics())


def acknowledge(alerts: QuerySet[Alert], user: User, comment: str = "") -> int:
    """Acknowledge the open, unacknowledged alerts among `alerts`; returns how many."""
    return alerts.filter(status__in=AlertStatus.open(), acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user, acknowledgement=comment)


def resolve(alerts: QuerySet[Alert]) -> int:
    """Resolve firing alerts by hand (the condition may still hold: it fires again on the next evaluation)."""
    return alerts.filter(status=AlertStatus.FIRING).update(status=AlertStatus.RESOLVED, resolved_at=timezone.now())
