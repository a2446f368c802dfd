"""What the engine asks VictoriaMetrics for a rule: its queries per variant (the rule, or a device's override), the
devices they cover, and the rows that come back as series."""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from alerts.engine.suppression import Maintenance
from alerts.models import AlertRule, scoped_devices
from templates_app.models import MonitoringTemplate
from wardsite.expressions import held_for, parse, recovery_metricsql, to_metricsql
from wardsite.victoria import VictoriaError, get_client

Answers = dict[str, list[dict] | VictoriaError]  # query -> its rows, or the error VictoriaMetrics gave


@dataclass(frozen=True)
class Variant:
    """The rule as it applies to some devices: its own expressions, or a device's override."""

    expression: str
    recovery: str
    include: frozenset[int] | None  # None: every device
    exclude: frozenset[int] = frozenset()

    def covers(self, device_id: int | None) -> bool:
        return (self.include is None or device_id in self.include) and device_id not in self.exclude


@dataclass(frozen=True)
class Check:
    """One variant of a rule: its condition's query, its recovery query ("" if none) and the devices it covers."""

    variant: Variant
    hold: timedelta
    condition: str
    recovery: str
    covers: Callable[[int | None], bool]


@dataclass(frozen=True)
class Plan:
    """A rule's checks and scope for one cycle."""

    devices: frozenset[int] | None  # the rule's scope; None: every device
    checks: list[Check]

    def queries(self) -> list[str]:
        return [q for check in self.checks for q in (check.condition, check.recovery) if q]


def plan_rule(rule: AlertRule, includers: dict[int, set[int]], maintenance: Maintenance) -> Plan:
    """What to ask VictoriaMetrics for the rule: nothing when no device is in its scope."""
    devices = scope(rule, includers)
    checks = []
    for variant in _variants(rule, devices) if devices != set() else []:
        condition = parse(variant.expression)
        recovery = (to_metricsql(parse(variant.recovery)) if variant.recovery.strip() else recovery_metricsql(condition))
        checks.append(Check(variant, timedelta(seconds=held_for(condition) or rule.for_seconds or 0),
                            to_metricsql(condition), recovery or "",
                            functools.partial(_evaluated, variant, maintenance)))
    return Plan(devices, checks)


def ask(queries: set[str], at: datetime) -> Answers:
    """Each distinct query's rows, or the error VictoriaMetrics gave (rules sharing a query share its answer)."""
    def answer(query: str) -> list[dict] | VictoriaError:
        try:
            return get_client().query(query, at=at.timestamp())
        except VictoriaError as exc:
            return exc

    return {query: answer(query) for query in sorted(queries)}


def rows(answers: Answers, query: str) -> list[dict]:
    """The rows of one query; the error VictoriaMetrics gave for it is raised."""
    found = answers[query]
    if isinstance(found, VictoriaError):
        raise found
    return found


def _evaluated(variant: Variant, maintenance: Maintenance, device_id: int | None) -> bool:
    return variant.covers(device_id) and not maintenance.quiet(device_id)


def _variants(rule: AlertRule, devices: frozenset[int] | None) -> list[Variant]:
    """The rule for the devices without overrides, and each enabled override for its device."""
    overrides = [o for o in rule.overrides.all() if devices is None or o.device_id in devices]
    variants = [Variant(rule.expression, rule.recovery_expression, None if devices is None else frozenset(devices),
                        frozenset(o.device_id for o in overrides))]
    variants += [Variant(o.expression or rule.expression, o.recovery_expression or rule.recovery_expression,
                         frozenset({o.device_id})) for o in overrides if o.enabled]
    return variants


def scope(rule: AlertRule, includers: dict[int, set[int]]) -> frozenset[int] | None:
    """Ids of the devices the rule covers; None when it has no scope (every device).

    A template in the scope covers the devices it is applied to, also through a template that includes it
    (`includers`: template id -> ids of the templates whose closure holds it, see template_includers).
    """
    templates = {pk for t in rule.templates.all() for pk in includers.get(t.pk, {t.pk})}
    return scoped_devices(list(rule.devices.all()), list(rule.groups.all()), list(rule.tags.all()),
                          Q(template_assignments__template__in=templates) if templates else None)


def template_includers() -> dict[int, set[int]]:
    """Template id -> ids of the templates that are it or include it, transitively: one query, walked in memory."""
    templates = list(MonitoringTemplate.objects.values_list("pk", "key", "includes"))
    by_key = {key: pk for pk, key, _ in templates}
    includes = {pk: [by_key[key] for key in keys if key in by_key] for pk, _, keys in templates}
    includers: dict[int, set[int]] = {}
    for top in includes:
        reached, pending = {top}, [top]
        while pending:
            for included in includes[pending.pop()]:
                if included not in reached:
                    reached.add(included)
                    pending.append(included)
        for included in reached:
            includers.setdefault(included, set()).add(top)
    return includers


def fingerprint_of(labels: dict[str, str]) -> str:
    """The hash of a series' labels: one open alert per rule and fingerprint."""
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()


def series(found: list[dict], covers: Callable[[int | None], bool]) -> dict[str, tuple[dict[str, str], float]]:
    """fingerprint -> (labels, value) of the rows of an instant query, kept to the devices covered."""
    kept = {}
    for row in found:
        labels = {k: v for k, v in row["metric"].items() if k != "__name__"}
        device_id = int(labels["device_id"]) if labels.get("device_id", "").isdigit() else None
        if covers(device_id):
            kept[fingerprint_of(labels)] = (labels, float(row["value"][1]))
    return kept
