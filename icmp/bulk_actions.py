"""The device list's ICMP action as a bulk job (wardsite/jobs.py): ping a batch of devices now."""
from __future__ import annotations

from typing import Any

from django.conf import settings

from devices.models import Device
from devices.services import poller_queues
from icmp import services
from wardsite.jobs import BatchResult, JobKind
from wardsite.numbers import LOSS_DECIMALS, RTT_DECIMALS, readable


def ping_batch(device_ids: list[int], params: dict[str, Any]) -> BatchResult:
    """One ping cycle over the devices, recorded as the scheduled one is; a device that did not answer, or was not
    pinged (ICMP off, the batch deadline), fails with why."""
    names = dict(Device.objects.filter(pk__in=device_ids).values_list("pk", "name"))
    outcomes = {outcome.device_id: outcome for outcome in services.run_cycle(device_ids)}
    result = BatchResult()
    for pk in device_ids:
        outcome = outcomes.get(pk)
        if outcome is None:
            if pk in names:  # deleted since it was selected: nothing to say
                result.failures.append((names[pk], "not pinged: ICMP monitoring is off for it (or the batch "
                                                   "deadline passed)"))
            continue
        ping = outcome.result
        rtt = f"rtt {readable(ping.avg_ms, RTT_DECIMALS)} ms, " if ping.is_alive else ""
        line = f"{rtt}loss {readable(ping.loss_percent, LOSS_DECIMALS)} %, {outcome.state}"
        if ping.is_alive:
            result.notes.append(f"{names[pk]}: {line}")
        else:
            result.failures.append((names[pk], line + (f" ({ping.error})" if ping.error else "")))
    return result


# one cycle pings its whole batch at once (about one timeout): a scheduler's batch, and 20 at once in the request
PING_NOW = JobKind("icmp.ping_now", "Ping now", ping_batch, batch_size=settings.ICMP_BATCH_SIZE, sync_limit=20,
                   route=poller_queues)
