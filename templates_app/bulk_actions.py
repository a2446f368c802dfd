"""The device list's template actions as bulk jobs (wardsite/jobs.py): apply the chosen template, or the matching
one, to a batch of devices."""
from __future__ import annotations

from typing import Any

from devices.services import poller_queues
from snmp import services as snmp_services
from snmp.bulk_actions import devices_of, reason
from snmp.client import SNMPError
from templates_app import applier
from templates_app.models import MonitoringTemplate
from wardsite.jobs import BatchResult, JobKind


def _add(result: BatchResult, report: applier.ApplyReport) -> None:
    """A device whose template applied with problems (a conflict, a failed discovery) fails with them."""
    if report.problems:
        result.failures.append((report.device, "; ".join(report.problems)))
    else:
        result.notes.append(str(report))


def apply_batch(device_ids: list[int], params: dict[str, Any]) -> BatchResult:
    """Apply the template `params["template"]` (a primary key) to each device."""
    result = BatchResult()
    template = MonitoringTemplate.objects.filter(pk=params["template"]).first()
    for device in devices_of(device_ids):
        if template is None:
            result.failures.append((device.name, "the template was deleted"))
        else:
            _add(result, applier.apply(template, device))
    return result


def auto_batch(device_ids: list[int], params: dict[str, Any]) -> BatchResult:
    """Pick each device's template by its sysObjectID/sysDescr (asking the device if they are unknown) and apply it."""
    result = BatchResult()
    for device in devices_of(device_ids):
        try:
            template, report = applier.auto_apply(device)
        except (snmp_services.SNMPConfigError, SNMPError) as exc:
            result.failures.append((device.name, reason(device, exc)))
            continue
        if template is None:
            result.failures.append((device.name, "no template matches its sysObjectID/sysDescr"))
        else:
            _add(result, report)
    return result


# Applying is database work (~10 queries a device) plus a walk per table-discovery column: 10 at once in the request.
APPLY = JobKind("templates.apply", "Apply a template", apply_batch, batch_size=100, sync_limit=10)
# Picking may ask each device its system group first, one after another (see snmp.bulk_actions.TEST).
AUTO = JobKind("templates.auto", "Pick and apply the matching template", auto_batch, batch_size=20, sync_limit=3,
               route=poller_queues)
