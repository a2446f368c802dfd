"""The alerts app's families on /metrics (wardsite/self_metrics.py): deliveries by outcome, alerts firing."""
from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from alerts.choices import AlertStatus, DeliveryStatus
from alerts.models import Alert, Delivery


def collect() -> Iterator[Metric]:
    """Two grouped counts in the database, made at scrape time."""
    deliveries = GaugeMetricFamily(
        "wardflux_deliveries", "Notification delivery attempts kept (RETENTION_DELIVERIES_DAYS), by outcome",
        labels=["status"])
    counted = dict(Delivery.objects.values_list("status").annotate(n=Count("pk")).order_by())
    for status in DeliveryStatus.values:
        deliveries.add_metric([status], float(counted.get(status, 0)))
    firing = GaugeMetricFamily("wardflux_alerts_firing", "Alerts firing now, by severity", labels=["severity"])
    by_severity = Alert.objects.filter(status=AlertStatus.FIRING).values_list("severity").annotate(n=Count("pk"))
    for severity, count in by_severity.order_by():
        firing.add_metric([severity], float(count))
    yield from (deliveries, firing)
