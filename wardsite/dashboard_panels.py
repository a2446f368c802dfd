"""wardsite's own panel of the dashboard: the collectors' health. Each watched loop's last cycle and lateness
(wardsite/heartbeats.py), the queues' depth and consumers, and the VictoriaMetrics spool, as /healthz has them."""
from __future__ import annotations

import redis
from django.http import HttpRequest

from wardsite import health, heartbeats
from wardsite.dashboard import Panel, register
from wardsite.heartbeats import in_words


def _loops() -> list[dict] | None:
    try:
        ticks = heartbeats.ticks()
    except redis.RedisError:
        return None
    return [{"label": tick.watched.label, "stale": tick.stale,
             "last": "never" if tick.age is None else f"{in_words(tick.age)} ago",
             "lateness": "–" if tick.lateness is None else in_words(tick.lateness)} for tick in ticks]


def _context(request: HttpRequest) -> dict:
    queues, spool = health.check_queues(), health.check_spool()
    return {"loops": _loops(), "queues": queues.detail.get("queues"), "queues_problem": queues.problem,
            "spool": spool.detail if spool.ok else None}


def register_panels() -> None:
    """From WardsiteConfig.ready()."""
    register(Panel("collectors", "Collectors", "wardsite/dashboard/collectors.html", _context, order=60))
