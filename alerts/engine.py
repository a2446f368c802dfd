"""The alert engine: every rule's query evaluated by VictoriaMetrics, a state machine per (rule, series).

    (nothing) --holds--> pending --held for for_seconds--> firing --stops holding / recovery holds--> resolved
    pending --stops holding--> (deleted: it never fired)

Each transition is one conditional UPDATE (or an INSERT guarded by the one-open-alert constraint), so when
several workers evaluate at once exactly one of them makes it and reports the event; notifications are sent
for the events returned, hence once.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.expressions import ExpressionError, held_for, parse, recovery_metricsql, to_metricsql
from alerts.models import Alert, AlertRule
from devices.models import Device
from wardsite.victoria import VictoriaError, get_client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """A transition that people must hear about."""

    kind: str  # "firing" or "resolved"
    alert_id: int


@dataclass
class RuleResult:
    rule: str
    holding: int = 0  # series for which the condition holds now
    events: list[Event] = field(default_factory=list)
    error: str = ""


def evaluate_all(at: datetime | None = None) -> list[RuleResult]:
    """Evaluate every enabled rule once at `at` (default now); a failing rule does not stop the others."""
    at = at or timezone.now()
    results = []
    for rule in AlertRule.objects.filter(enabled=True).prefetch_related("devices", "groups", "tags", "templates"):
        try:
            results.append(evaluate_rule(rule, at))
        except (VictoriaError, ExpressionError) as exc:  # VM down or refusing; an expression saved around clean()
            logger.warning("alert rule %r not evaluated: %s", rule.name, exc)
            results.append(RuleResult(rule.name, error=str(exc)))
    return results


def evaluate_rule(rule: AlertRule, at: datetime) -> RuleResult:
    """Query VictoriaMetrics for the rule at `at` and move its alerts through their states."""
    condition = parse(rule.expression)
    client, ts = get_client(), at.timestamp()
    devices = scope(rule)
    holding = _series(client.query(to_metricsql(condition), at=ts), devices)
    recovery_query = (to_metricsql(parse(rule.recovery_expression)) if rule.recovery_expression.strip()
                      else recovery_metricsql(condition))
    recovered = _series(client.query(recovery_query, at=ts), devices) if recovery_query else None
    hold = timedelta(seconds=held_for(condition) or rule.for_seconds or 0)
    result = RuleResult(rule.name, holding=len(holding))
    open_alerts = {a.fingerprint: a for a in Alert.objects.filter(rule=rule, status__in=AlertStatus.open())}
    for fingerprint, (labels, value) in holding.items():
        alert = open_alerts.pop(fingerprint, None) or _open(rule, fingerprint, labels, value, at)
        if alert is None:
            continue  # another worker opened it a moment ago; it takes this series for this cycle
        Alert.objects.filter(pk=alert.pk).update(value=value, last_seen_at=at)
        if alert.status == AlertStatus.PENDING and at - alert.pending_since >= hold and _claim(
                alert, AlertStatus.PENDING, status=AlertStatus.FIRING, triggered_at=at, severity=rule.severity):
            result.events.append(Event("firing", alert.pk))
    for fingerprint, alert in open_alerts.items():  # no longer holding (or out of scope)
        if alert.status == AlertStatus.PENDING:
            Alert.objects.filter(pk=alert.pk, status=AlertStatus.PENDING).delete()
        elif _recovers(alert, fingerprint, recovered, devices) and _claim(
                alert, AlertStatus.FIRING, status=AlertStatus.RESOLVED, resolved_at=at):
            result.events.append(Event("resolved", alert.pk))
    return result


def scope(rule: AlertRule) -> set[int] | None:
    """Ids of the devices the rule covers; None when it has no scope (every device)."""
    devices, groups, tags, templates = (list(rule.devices.all()), list(rule.groups.all()), list(rule.tags.all()),
                                        list(rule.templates.all()))
    if not (devices or groups or tags or templates):
        return None
    covered = (Q(pk__in=[d.pk for d in devices]) | Q(group__in=groups) | Q(tags__in=tags)
               | Q(template_assignments__template__in=templates))
    return set(Device.objects.filter(covered).values_list("pk", flat=True))


def fingerprint_of(labels: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()


def _series(rows: list[dict], devices: set[int] | None) -> dict[str, tuple[dict[str, str], float]]:
    """fingerprint -> (labels, value) of the rows of an instant query, kept to the devices in scope."""
    found = {}
    for row in rows:
        labels = {k: v for k, v in row["metric"].items() if k != "__name__"}
        if devices is not None and not (labels.get("device_id", "").isdigit() and int(labels["device_id"]) in devices):
            continue
        found[fingerprint_of(labels)] = (labels, float(row["value"][1]))
    return found


def _open(rule: AlertRule, fingerprint: str, labels: dict[str, str], value: float, at: datetime) -> Alert | None:
    device_id = int(labels["device_id"]) if labels.get("device_id", "").isdigit() else None
    try:
        with transaction.atomic():
            return Alert.objects.create(
                rule=rule, fingerprint=fingerprint, labels=labels, severity=rule.severity, value=value,
                first_value=value, pending_since=at, last_seen_at=at,
                device=Device.objects.filter(pk=device_id).first() if device_id else None)
    except IntegrityError:  # the one-open-alert constraint: another evaluator was first
        return None


def _claim(alert: Alert, current: str, **changes) -> bool:
    """Apply `changes` if the alert is still in state `current`; True for the one caller that did."""
    return Alert.objects.filter(pk=alert.pk, status=current).update(**changes) == 1


def _recovers(alert: Alert, fingerprint: str, recovered: dict | None, devices: set[int] | None) -> bool:
    """A firing alert resolves when its series stops holding, unless a recovery query says it has not recovered;
    it always does when its device left the rule's scope or was deleted."""
    out_of_scope = devices is not None and alert.device_id not in devices
    deleted = alert.device_id is None and "device_id" in alert.labels
    return recovered is None or fingerprint in recovered or out_of_scope or deleted
