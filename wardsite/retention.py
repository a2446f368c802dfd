"""Old rows pruned after configurable periods (docs/operations.md, "Retention"): deliveries, resolved alerts,
discovery runs and device state changes. wardsite knows none of those models: each app registers what it keeps
in its AppConfig.ready(), and the daily task `wardsite.prune_old_rows` prunes them all."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)
Prune = Callable[[datetime], int]  # deletes what is older than the cutoff; returns how many rows went


@dataclass(frozen=True)
class Kept:
    """What one setting (e.g. RETENTION_DELIVERIES_DAYS, 0: forever) keeps, and how to prune it."""

    name: str
    setting: str
    prune: Prune


_kept: dict[str, Kept] = {}


def register(name: str, setting: str, prune: Prune) -> None:
    """Prune `name` (e.g. "deliveries") past `setting` days (from an AppConfig.ready())."""
    _kept[name] = Kept(name, setting, prune)


def prune_all(now: datetime | None = None) -> dict[str, int]:
    """Prune every registered kind past its period; {name: rows deleted}, 0 for a kind kept forever."""
    now = now or timezone.now()
    deleted = {}
    for kept in _kept.values():
        days = getattr(settings, kept.setting)
        deleted[kept.name] = kept.prune(now - timedelta(days=days)) if days > 0 else 0
        if deleted[kept.name]:
            logger.info("retention: deleted %d %s older than %d days (%s)", deleted[kept.name], kept.name, days,
                        kept.setting)
    return deleted
