"""Zabbix servers in the configuration document (wardsite/config_io.py): how to reach each (its API token or
password only on request) and how often it is synced. Hosts and problems are what a sync reads from Zabbix."""
from __future__ import annotations

from datetime import timedelta

from django_celery_beat.models import IntervalSchedule

from wardsite.config_io import Extra, Section, register
from wardsite.text import quote
from zabbix_bridge.models import ZabbixServer


def _sync_seconds(server: ZabbixServer) -> int | None:
    """Seconds between syncs; None when the schedule is not an interval (a crontab set in Periodic tasks)."""
    interval = server.schedule.interval if server.schedule else None
    return None if interval is None else int(timedelta(**{interval.period: interval.every}).total_seconds())


def _set_sync_seconds(server: ZabbixServer, seconds: object) -> None:
    """Sync every this many seconds (None: leave the schedule as it is); ValueError for anything else."""
    if seconds is None:
        return
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
        raise ValueError(f"expected a number of seconds (1 or more), not {quote(seconds)}")
    if server.schedule is None:  # saving a server makes its schedule (ZabbixBridgeConfig.ready)
        raise ValueError("the server has no sync schedule to set")
    server.schedule.interval, _ = IntervalSchedule.objects.get_or_create(every=seconds,
                                                                        period=IntervalSchedule.SECONDS)
    server.schedule.crontab = None
    server.schedule.save()


register(Section("zabbix_servers", ZabbixServer, extras=(Extra("sync_every_seconds", _sync_seconds,
                                                                _set_sync_seconds),)))
