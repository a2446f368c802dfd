"""Which devices maintenance windows cover, and when: one batched answer for the alert engine (the windows active
at a moment) and the availability report (the windows over a period), whatever the number of windows or devices."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, OuterRef

from devices.models import Device

if TYPE_CHECKING:
    from alerts.models import MaintenanceWindow

Span = tuple[datetime, datetime]
INSTANT = timedelta(microseconds=1)  # the shortest period: [at, at + INSTANT) holds `at` alone


@dataclass(frozen=True)
class Cover:
    """A window over a period: when it is active in it, and the devices it covers."""

    window: MaintenanceWindow
    spans: list[Span]  # its occurrences in the period, cut to it (MaintenanceWindow.occurrences)
    device_ids: frozenset[int] | None  # None: every device (a window without scope)

    def covers(self, device_id: int | None) -> bool:
        return self.device_ids is None or device_id in self.device_ids


class MaintenanceQuerySet(models.QuerySet):
    def covering(self, start: datetime, end: datetime, devices: Iterable[int] | None = None) -> list[Cover]:
        """The windows active at some time in [start, end), in the queryset's order, each with those times and the
        ids of the devices in its scope (only those of `devices` when given). Two queries at most."""
        through = self.model.devices.through, self.model.groups.through, self.model.tags.through
        found = self.filter(starts_at__lt=end).exclude(ends_at__lte=start).annotate(scoped=Exists(
            through[0].objects.filter(maintenancewindow=OuterRef("pk"))) | Exists(
            through[1].objects.filter(maintenancewindow=OuterRef("pk"))) | Exists(
            through[2].objects.filter(maintenancewindow=OuterRef("pk"))))
        windows = [(window, spans) for window in found if (spans := window.occurrences(start, end))]
        scopes = _scopes(self.model, [window.pk for window, _ in windows if window.scoped], devices)
        return [Cover(window, spans, scopes[window.pk] if window.scoped else None) for window, spans in windows]

    def active_at(self, at: datetime) -> list[Cover]:
        """The windows active at `at`, with the devices they cover."""
        return self.covering(at, at + INSTANT)


def _scopes(model: type[MaintenanceWindow], ids: list[int], devices: Iterable[int] | None
            ) -> dict[int, frozenset[int]]:
    """Window id -> ids of the devices it names, in its groups or with any of its tags (of `devices` when given):
    one query, a UNION of the three."""
    if not ids:
        return {}
    named = model.devices.through.objects.filter(maintenancewindow__in=ids).values_list("maintenancewindow", "device")
    grouped = Device.objects.filter(group__maintenance_windows__in=ids).values_list("group__maintenance_windows", "pk")
    tagged = Device.objects.filter(tags__maintenance_windows__in=ids).values_list("tags__maintenance_windows", "pk")
    if devices is not None:
        devices = list(devices)
        named, grouped, tagged = named.filter(device__in=devices), grouped.filter(pk__in=devices), tagged.filter(
            pk__in=devices)
    covered: dict[int, set[int]] = defaultdict(set)
    for window, device in named.order_by().union(grouped.order_by(), tagged.order_by()):
        covered[window].add(device)
    return {pk: frozenset(covered[pk]) for pk in ids}
