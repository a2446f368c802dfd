"""The device list's SNMP actions as bulk jobs (wardsite/jobs.py): test SNMP and poll now, a batch at a time."""
from __future__ import annotations

from typing import Any

from django.conf import settings

from devices.models import Device
from devices.services import poller_queues
from snmp import services
from snmp.client import SNMPError
from wardsite.jobs import BatchResult, JobKind


def reason(device: Device, exc: Exception) -> str:
    """The error's text without the device's name in front (the job's pages and messages put it there)."""
    return str(exc).removeprefix(f"{device}: ")


def devices_of(device_ids: list[int]) -> list[Device]:
    """The batch's devices with their credentials, in the order selected (those deleted since left out)."""
    found = Device.objects.select_related("snmp_credential").in_bulk(device_ids)
    return [found[pk] for pk in device_ids if pk in found]


def test_batch(device_ids: list[int], params: dict[str, Any]) -> BatchResult:
    """Read each device's system group, one device after another."""
    result = BatchResult()
    for device in devices_of(device_ids):
        try:
            facts = services.test_connection(services.target_for(device))
        except (services.SNMPConfigError, SNMPError) as exc:
            result.failures.append((device.name, reason(device, exc)))
            continue
        result.notes.append(f"{device}: {facts['sys_name']} ({facts['sys_object_id']}), up "
                            f"{facts['uptime_seconds']} s: {facts['sys_descr'][:120]}")
    return result


def poll_batch(device_ids: list[int], params: dict[str, Any]) -> BatchResult:
    """Poll everything the devices have now (all in flight at once), recorded as a scheduled poll is."""
    result, pollable = BatchResult(), []
    for device in devices_of(device_ids):
        try:
            services.check_pollable(device)
            pollable.append(device)
        except services.SNMPConfigError as exc:
            result.failures.append((device.name, reason(device, exc)))
    for polled in services.run_batch([device.pk for device in pollable], force=True) if pollable else ():
        if polled.error:
            result.failures.append((polled.device, polled.error.removeprefix(f"{polled.device}: ")))
        else:
            result.notes.append(f"{polled.device}: {len(polled.items)} items, {len(polled.interfaces)} interfaces, "
                                f"{polled.samples_written} samples written")
    return result


# A test asks one device after another, each up to its credential's timeout × (retries + 1) (4 s by default) when it
# does not answer: 3 at most while the page waits, 20 a batch (80 s at worst, well inside the task's time limit).
TEST = JobKind("snmp.test", "Test SNMP", test_batch, batch_size=20, sync_limit=3, route=poller_queues)
# A poll has the batch in flight at once, bounded by SNMP_BATCH_DEADLINE_SECONDS: the scheduler's batch size.
POLL = JobKind("snmp.poll", "Poll SNMP now", poll_batch, batch_size=settings.SNMP_BATCH_SIZE, sync_limit=10,
               route=poller_queues)
