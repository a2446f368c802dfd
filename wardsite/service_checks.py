"""Start-up checks of the services WARD FLUX relies on (docs/operations.md, "Start-up checks").

Run by `migrate` (which every start runs first: `make run`, the compose `migrate` service) and by
`manage.py check --database default`; not by a plain `check`, which must work without the services.
A service that cannot be reached at that moment is a warning, not a refusal: it may simply start later.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import redis
import requests
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from wardsite.victoria import service_url

_TIMEOUT_SECONDS = 3
_RETENTION = re.compile(r'^-retentionPeriod="?([^"\s]+)"?\s*$', re.MULTILINE)
# VictoriaMetrics' own units: a bare number counts months of 31 days
_DAYS_PER_UNIT = {"h": 1 / 24, "d": 1, "w": 7, "y": 365, "": 31}


@register(Tags.database)
def redis_does_not_evict(app_configs, databases=None, **kwargs) -> list[CheckMessage]:
    """An evicting Redis drops queued tasks and spooled samples without a word (the earlier system lost its
    queues to allkeys-lru): refuse it."""
    if not databases:
        return []
    messages = []
    for name, url in _redis_urls().items():
        try:
            policy = _eviction_policy(url)
        except redis.RedisError as exc:
            messages.append(Warning(f"{name}: Redis could not be asked for its maxmemory-policy at start-up, so it "
                                    f"was not checked ({_error_class(exc)})", id="wardsite.W010"))
            continue
        if policy and policy != "noeviction":
            messages.append(Error(
                f"{name}: Redis' maxmemory-policy is {policy!r}: it evicts keys, and queued tasks or spooled samples "
                "would be lost without a word", hint="set `maxmemory-policy noeviction` in redis.conf (or "
                "`redis-server --maxmemory-policy noeviction`)", id="wardsite.E010"))
    return messages


@register(Tags.database)
def victoria_keeps_the_history(app_configs, databases=None, **kwargs) -> list[CheckMessage]:
    """VictoriaMetrics' -retentionPeriod must keep HISTORY_DAYS of series."""
    if not databases:
        return []
    try:
        response = requests.get(service_url(settings.VICTORIA_READ_URL or settings.VICTORIA_URL, "/flags"),
                                timeout=_TIMEOUT_SECONDS)
        response.raise_for_status()
    except requests.RequestException as exc:
        return [Warning(f"VictoriaMetrics not reachable at start-up, its retention was not checked "
                        f"({_error_class(exc)})", id="wardsite.W011")]
    days = retention_days(response.text)
    if days is None:
        return [Warning("VictoriaMetrics' /flags did not show a -retentionPeriod this check understands: its "
                        "retention was not checked", id="wardsite.W012")]
    if days < settings.HISTORY_DAYS:
        return [Error(f"VictoriaMetrics keeps {days:g} days of series (-retentionPeriod) but HISTORY_DAYS is "
                      f"{settings.HISTORY_DAYS}: older history would be deleted",
                      hint=f"start victoria-metrics with -retentionPeriod={settings.HISTORY_DAYS}d or longer, or "
                           "lower HISTORY_DAYS", id="wardsite.E011")]
    return []


def retention_days(flags: str) -> float | None:
    """The -retentionPeriod in VictoriaMetrics' /flags output, in days ("12" is 12 months of 31 days)."""
    match = _RETENTION.search(flags)
    if match is None:
        return None
    value = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([hdwy]?)", match[1])
    return None if value is None else float(value[1]) * _DAYS_PER_UNIT[value[2]]


def _eviction_policy(url: str) -> str | None:
    client = redis.Redis.from_url(url, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS)
    try:
        value = client.config_get("maxmemory-policy").get("maxmemory-policy")
    finally:
        client.close()
    return value.decode() if isinstance(value, bytes) else value


def _redis_urls() -> dict[str, str]:
    """REDIS_URL and the spool's Redis (VICTORIA_SPOOL_URL) when that is another server."""
    urls = {"REDIS_URL": settings.REDIS_URL}
    spool = getattr(settings, "VICTORIA_SPOOL_URL", None)
    if spool and _server(spool) != _server(settings.REDIS_URL):
        urls["VICTORIA_SPOOL_URL"] = spool
    return urls


def _server(url: str) -> tuple:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port, parts.path if parts.scheme == "unix" else ""


def _error_class(exc: BaseException) -> str:
    """The kind of error only: its text may quote a URL with a password in it."""
    return type(exc).__name__
