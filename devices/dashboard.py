"""The devices' panels of the dashboard (wardsite/dashboard.py): devices up, down and unknown per group, each count a
link to the filtered device list, and the newest state changes."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse

from devices.choices import DeviceState
from devices.models import Device, DeviceStateChange
from wardsite.dashboard import Panel, register

RECENT_CHANGES = 10
STATES = (DeviceState.DOWN, DeviceState.UNKNOWN, DeviceState.UP)  # the order of the columns: what is wrong first


@dataclass
class GroupRow:
    """One group's devices by state (group_id None: the devices of no group; 0: all devices)."""

    name: str
    group_id: int | None
    counts: dict[str, int] = field(default_factory=dict)

    def cells(self) -> list[tuple[str, int, str]]:
        """(state, count, link to the list of the group's devices in that state) in STATES order."""
        return [(state, self.counts.get(state, 0), _list_url(**self._filter(), state__exact=state)) for state in STATES]

    def _filter(self) -> dict[str, str]:
        if self.group_id is None:
            return {"group__isnull": "True"}
        return {"group__id__exact": str(self.group_id)} if self.group_id else {}

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _list_url(**query: str) -> str:
    return reverse("admin:devices_device_changelist") + "?" + urlencode(query)


def by_group() -> list[GroupRow]:
    """Every group with devices, the groupless ones last; groups with devices down first, then by name."""
    rows: dict[int | None, GroupRow] = {}
    counted = Device.objects.values_list("group_id", "group__name", "state").annotate(n=Count("pk")).order_by()
    for group_id, name, state, n in counted:
        row = rows.setdefault(group_id, GroupRow(name or "(no group)", group_id))
        row.counts[state] = n
    return sorted(rows.values(), key=lambda row: (not row.counts.get(DeviceState.DOWN), row.group_id is None,
                                                  row.name.lower()))


def _devices(request: HttpRequest) -> dict:
    groups = by_group()
    totals = GroupRow("All devices", 0)
    for row in groups:
        for state, n in row.counts.items():
            totals.counts[state] = totals.counts.get(state, 0) + n
    return {"groups": groups, "totals": totals, "states": [DeviceState(s).label for s in STATES]}


def _changes(request: HttpRequest) -> dict:
    changes = DeviceStateChange.objects.select_related("device").order_by("-at")[:RECENT_CHANGES]
    return {"changes": changes, "all_url": reverse("admin:devices_devicestatechange_changelist")}


def register_panels() -> None:
    """From DevicesConfig.ready()."""
    register(Panel("devices", "Devices", "devices/dashboard/devices.html", _devices, order=10,
                   permission="devices.view_device"))
    register(Panel("state-changes", "Recent state changes", "devices/dashboard/changes.html", _changes, order=30,
                   permission="devices.view_devicestatechange"))
