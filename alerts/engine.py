"""The alert engine: every rule's query evaluated by VictoriaMetrics, a state machine per (rule, series).

    (nothing) --holds--> pending --held for for_seconds--> firing --stops holding / recovery holds--> resolved
    pending --stops holding--> (deleted: it never fired)

While firing and unacknowledged, an alert is repeated every rule.repeat_minutes and escalated once after
rule.escalate_after_minutes. An alert of a device that is down, or behind one that is (parent), fires but is
suppressed (suppressed_by says why): nobody is told, unless it still fires once the cause is gone. So is one
that fires too often (flapping): people get one "flapping" notification instead of a stream.

Each transition is one conditional UPDATE (or an INSERT guarded by the one-open-alert constraint), so when
several workers evaluate at once exactly one of them makes it and reports the event; notifications are sent
for the events returned, hence once.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.expressions import ExpressionError, held_for, metrics, parse, recovery_metricsql, to_metricsql
from alerts.models import Alert, AlertRule, MaintenanceWindow, scoped_devices
from devices.choices import DeviceState
from devices.models import Device, DeviceStateChange
from devices.services import STATE_METRIC
from templates_app.applier import closure
from templates_app.models import MonitoringTemplate
from wardsite.victoria import VictoriaError, get_client

logger = logging.getLogger(__name__)
# A rule on these alone is about the device being down: its own state does not suppress it (a parent's does).
REACHABILITY_METRICS = frozenset({STATE_METRIC})


@dataclass(frozen=True)
class Event:
    """A transition that people must hear about."""

    kind: str  # firing, resolved, repeat (still firing, unacknowledged), escalation or flapping
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
    includers = template_includers()  # once per cycle, not per rule
    results = []
    for rule in AlertRule.objects.filter(enabled=True).prefetch_related("devices", "groups", "tags", "templates",
                                                                      "overrides"):
        try:
            results.append(evaluate_rule(rule, at, includers))
        except (VictoriaError, ExpressionError) as exc:  # VM down or refusing; an expression saved around clean()
            logger.warning("alert rule %r not evaluated: %s", rule.name, exc)
            results.append(RuleResult(rule.name, error=str(exc)))
    return results


def evaluate_rule(rule: AlertRule, at: datetime, includers: dict[int, set[int]] | None = None) -> RuleResult:
    """Query VictoriaMetrics for the rule at `at` and move its alerts through their states."""
    devices = scope(rule, template_includers() if includers is None else includers)
    maintenance = Maintenance.at(at)
    holding, recovered, needs_recovery = {}, set(), set()
    for variant in _variants(rule, devices) if devices != set() else []:  # no device in scope: nothing to ask
        condition = parse(variant.expression)
        hold = timedelta(seconds=held_for(condition) or rule.for_seconds or 0)
        covers = functools.partial(_evaluated, variant, maintenance)
        for fingerprint, (labels, value) in _series(_query(to_metricsql(condition), at), covers).items():
            holding[fingerprint] = (labels, value, hold)
        recovery = (to_metricsql(parse(variant.recovery)) if variant.recovery.strip() else recovery_metricsql(condition))
        if recovery:
            recovered |= set(_series(_query(recovery, at), covers))
            needs_recovery.add(variant)
    result = RuleResult(rule.name, holding=len(holding))
    reachability = metrics(parse(rule.expression)) <= REACHABILITY_METRICS
    open_alerts = {a.fingerprint: a for a in
                   Alert.objects.filter(rule=rule, status__in=AlertStatus.open()).select_related("device__parent")}
    for fingerprint, (labels, value, hold) in holding.items():
        alert = open_alerts.pop(fingerprint, None) or _open(rule, fingerprint, labels, value, at)
        if alert is None:
            continue  # another worker opened it a moment ago; it takes this series for this cycle
        Alert.objects.filter(pk=alert.pk).update(value=value, last_seen_at=at)
        if alert.status == AlertStatus.PENDING and at - alert.pending_since >= hold:
            flaps = flapping(rule, fingerprint, at, also_now=True)
            reason = maintenance.reason(alert.device_id) or suppression(alert.device, reachability, at) or flaps
            if _claim(alert, AlertStatus.PENDING, status=AlertStatus.FIRING, triggered_at=at, notified_at=at,
                      severity=rule.severity, suppressed_by=reason):
                if not reason:
                    result.events.append(Event("firing", alert.pk))
                elif reason == flaps and not _was_flapping(rule, fingerprint, alert, at):
                    result.events.append(Event("flapping", alert.pk))  # once, instead of a stream
        elif alert.status == AlertStatus.FIRING and alert.suppressed_by:
            still = (maintenance.reason(alert.device_id) or suppression(alert.device, reachability, at)
                     or flapping(rule, fingerprint, at))
            if not still and Alert.objects.filter(pk=alert.pk, suppressed_by=alert.suppressed_by).update(
                    suppressed_by="", notified_at=at):
                result.events.append(Event("firing", alert.pk))  # the cause is gone, the problem is not: tell
        elif alert.status == AlertStatus.FIRING and alert.acknowledged_at is None:
            result.events += _reminders(rule, alert, at)
    for fingerprint, alert in open_alerts.items():  # no longer holding (or out of scope)
        waits_for_recovery = any(v.covers(alert.device_id) for v in needs_recovery) and fingerprint not in recovered
        if alert.status == AlertStatus.PENDING:
            Alert.objects.filter(pk=alert.pk, status=AlertStatus.PENDING).delete()
        elif (not waits_for_recovery or _gone(alert, devices)) and _claim(
                alert, AlertStatus.FIRING, status=AlertStatus.RESOLVED, resolved_at=at) and not alert.suppressed_by:
            result.events.append(Event("resolved", alert.pk))  # a suppressed alert was never told, so neither is this
    return result


@dataclass(frozen=True)
class _Variant:
    """The rule as it applies to some devices: its own expressions, or a device's override."""

    expression: str
    recovery: str
    include: frozenset[int] | None  # None: every device
    exclude: frozenset[int] = frozenset()

    def covers(self, device_id: int | None) -> bool:
        return (self.include is None or device_id in self.include) and device_id not in self.exclude


def _evaluated(variant: _Variant, maintenance: Maintenance, device_id: int | None) -> bool:
    return variant.covers(device_id) and not maintenance.quiet(device_id)


def _variants(rule: AlertRule, devices: frozenset[int] | None) -> list[_Variant]:
    """The rule for the devices without overrides, and each enabled override for its device."""
    overrides = [o for o in rule.overrides.all() if devices is None or o.device_id in devices]
    variants = [_Variant(rule.expression, rule.recovery_expression, None if devices is None else frozenset(devices),
                         frozenset(o.device_id for o in overrides))]
    variants += [_Variant(o.expression or rule.expression, o.recovery_expression or rule.recovery_expression,
                          frozenset({o.device_id})) for o in overrides if o.enabled]
    return variants


def _query(expression: str, at: datetime) -> list[dict]:
    return get_client().query(expression, at=at.timestamp())


def scope(rule: AlertRule, includers: dict[int, set[int]]) -> frozenset[int] | None:
    """Ids of the devices the rule covers; None when it has no scope (every device).

    A template in the scope covers the devices it is applied to, also through a template that includes it
    (`includers`: template id -> ids of the templates whose closure holds it, see template_includers).
    """
    templates = {pk for t in rule.templates.all() for pk in includers.get(t.pk, {t.pk})}
    return scoped_devices(list(rule.devices.all()), list(rule.groups.all()), list(rule.tags.all()),
                          Q(template_assignments__template__in=templates) if templates else None)


def template_includers() -> dict[int, set[int]]:
    """Template id -> ids of the templates that are it or include it, transitively."""
    includers: dict[int, set[int]] = {}
    for template in MonitoringTemplate.objects.all():
        for included in closure(template):
            includers.setdefault(included.pk, set()).add(template.pk)
    return includers


def fingerprint_of(labels: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()


def _series(rows: list[dict], covers: Callable[[int | None], bool]) -> dict[str, tuple[dict[str, str], float]]:
    """fingerprint -> (labels, value) of the rows of an instant query, kept to the devices covered."""
    found = {}
    for row in rows:
        labels = {k: v for k, v in row["metric"].items() if k != "__name__"}
        device_id = int(labels["device_id"]) if labels.get("device_id", "").isdigit() else None
        if covers(device_id):
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


@dataclass(frozen=True)
class Maintenance:
    """The maintenance windows active at one moment: devices whose alerts are quiet, or not even evaluated."""

    windows: tuple[tuple[str, frozenset[int] | None, bool], ...]  # (name, device ids or None: all, no evaluation)

    @classmethod
    def at(cls, at: datetime) -> Maintenance:
        windows = MaintenanceWindow.objects.filter(starts_at__lte=at).exclude(ends_at__lte=at)
        return cls(tuple((w.name, w.device_ids(), w.suppress_evaluation) for w in windows if w.active_at(at)))

    def reason(self, device_id: int | None) -> str:
        return next((f"maintenance {name!r}" for name, ids, _ in self.windows if ids is None or device_id in ids), "")

    def quiet(self, device_id: int | None) -> bool:
        return any(off and (ids is None or device_id in ids) for _, ids, off in self.windows)


def suppression(device: Device | None, reachability: bool, at: datetime) -> str:
    """Why an alert of this device is not worth telling: the device is down (unless the rule is about that), or a
    device it depends on (parent, grandparent...) is; or one of them came back less than ALERT_RECOVERY_GRACE_SECONDS
    ago, while the collectors catch up. "" when none of this holds."""
    if device is None:
        return ""
    chain, seen = [] if reachability else [device], {device.pk}
    ancestor = device.parent
    while ancestor is not None and ancestor.pk not in seen:
        chain.append(ancestor)
        seen.add(ancestor.pk)
        ancestor = ancestor.parent
    grace = at - timedelta(seconds=settings.ALERT_RECOVERY_GRACE_SECONDS)
    for cause in chain:
        behind = "" if cause is device else f" ({device.name} depends on it)"
        if cause.state == DeviceState.DOWN:
            return f"{cause.name} is down{behind}"
        if cause.state_since > grace and DeviceStateChange.objects.filter(
                device=cause, previous=DeviceState.DOWN, at__gt=grace, at__lte=at).exists():
            return f"{cause.name} was down until {timezone.localtime(cause.state_since):%H:%M:%S}{behind}"
    return ""


def flapping(rule: AlertRule, fingerprint: str, at: datetime, *, also_now: bool = False) -> str:
    """Why the series counts as flapping: it fired FLAP_THRESHOLD times or more within FLAP_WINDOW_MINUTES
    (counting one firing now with `also_now`); "" when it does not."""
    window = timedelta(minutes=settings.FLAP_WINDOW_MINUTES)
    fired = Alert.objects.filter(rule=rule, fingerprint=fingerprint, triggered_at__gt=at - window,
                                 triggered_at__lte=at).count() + also_now
    if fired < settings.FLAP_THRESHOLD:
        return ""
    return f"flapping: fired {fired} times in {settings.FLAP_WINDOW_MINUTES} min"


def _was_flapping(rule: AlertRule, fingerprint: str, alert: Alert, at: datetime) -> bool:
    """Whether people were already told this series flaps (by an earlier alert within the window)."""
    window = timedelta(minutes=settings.FLAP_WINDOW_MINUTES)
    return Alert.objects.filter(rule=rule, fingerprint=fingerprint, triggered_at__gt=at - window,
                                suppressed_by__startswith="flapping").exclude(pk=alert.pk).exists()


def _reminders(rule: AlertRule, alert: Alert, at: datetime) -> list[Event]:
    """Repeat and escalation events due for a firing, unacknowledged alert (each claimed, so sent once)."""
    events = []
    last = alert.notified_at or alert.triggered_at
    if rule.repeat_minutes and at - last >= timedelta(minutes=rule.repeat_minutes):
        if Alert.objects.filter(pk=alert.pk, notified_at=alert.notified_at).update(notified_at=at):
            events.append(Event("repeat", alert.pk))
    escalate = rule.escalate_after_minutes
    if escalate and alert.escalated_at is None and at - alert.triggered_at >= timedelta(minutes=escalate):
        if Alert.objects.filter(pk=alert.pk, escalated_at__isnull=True).update(escalated_at=at):
            events.append(Event("escalation", alert.pk))
    return events


def _gone(alert: Alert, devices: frozenset[int] | None) -> bool:
    """The alert's device left the rule's scope or was deleted: it resolves whatever the recovery says."""
    return (devices is not None and alert.device_id not in devices) or (
        alert.device_id is None and "device_id" in alert.labels)
