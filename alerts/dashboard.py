"""The alerts' panel of the dashboard (wardsite/dashboard.py): the alerts firing by severity, how many nobody has
acknowledged yet and how many are pending, each a link to the filtered alert list; and the reports."""
from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse

from alerts.choices import AlertStatus
from alerts.models import Alert
from templates_app.choices import Severity
from wardsite.dashboard import Panel, register


def _list_url(**query: str) -> str:
    return reverse("admin:alerts_alert_changelist") + "?" + urlencode(query)


def by_severity() -> list[dict]:
    """Per severity, most severe first: firing, firing and not acknowledged, pending; with links to those lists."""
    counted = {row["severity"]: row for row in Alert.objects.filter(status__in=AlertStatus.open()).values(
        "severity").annotate(firing=Count("pk", filter=Q(status=AlertStatus.FIRING)),
                             unacknowledged=Count("pk", filter=Q(status=AlertStatus.FIRING, acknowledged_at=None)),
                             pending=Count("pk", filter=Q(status=AlertStatus.PENDING))).order_by()}
    rows = []
    for severity in Severity:
        row = counted.get(severity.value, {"firing": 0, "unacknowledged": 0, "pending": 0})
        firing = {"severity__exact": severity.value, "status__exact": AlertStatus.FIRING}
        rows.append({"severity": severity.value, "label": severity.label, **{k: row[k] for k in (
            "firing", "unacknowledged", "pending")},
            "firing_url": _list_url(**firing),
            "unacknowledged_url": _list_url(**firing, acknowledged_at__isempty="1"),
            "pending_url": _list_url(severity__exact=severity.value, status__exact=AlertStatus.PENDING)})
    return rows


def _context(request: HttpRequest) -> dict:
    rows = by_severity()
    return {"severities": rows, "firing": sum(row["firing"] for row in rows),
            "report_url": reverse("availability-report")}


def register_panels() -> None:
    """From AlertsConfig.ready()."""
    register(Panel("alerts", "Active alerts", "alerts/dashboard/alerts.html", _context, order=20,
                   permission="alerts.view_alert"))
