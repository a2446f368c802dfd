"""The alert engine: every rule's query evaluated by VictoriaMetrics, a state machine per (rule, series).

    (nothing) --holds--> pending --held for for_seconds--> firing --stops holding / recovery holds--> resolved
    pending --stops holding--> (deleted: it never fired)

While firing and unacknowledged, an alert is repeated every rule.repeat_minutes and escalated once after
rule.escalate_after_minutes. An alert of a device that is down, or behind one that is (parent), fires but is
suppressed (suppressed_by says why): nobody is told, unless it still fires once the cause is gone. So is one
that fires too often (flapping): people get one "flapping" notification instead of a stream.

Each transition is one conditional UPDATE (or an INSERT guarded by the one-open-alert constraint), so when
several workers evaluate at once exactly one of them makes it and reports the event; notifications are sent
for the events returned, hence once. What every cycle does for every open alert (its latest value, opening the
new ones, counting recent firings for flapping) is one statement per rule, not one per alert.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
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
    """Evaluate every enabled rule once at `at` (default now); a failing rule does not stop the others.

    Every rule's queries are asked first (each distinct one once); then each rule's alerts move on.
    """
    at = at or timezone.now()
    includers, maintenance = template_includers(), Maintenance.at(at)  # once per cycle, not per rule
    rules = list(AlertRule.objects.filter(enabled=True).prefetch_related("devices", "groups", "tags", "templates",
                                                                       "overrides"))
    plans: dict[int, _Plan | ExpressionError] = {}
    for rule in rules:
        try:
            plans[rule.pk] = _plan(rule, includers, maintenance)
        except ExpressionError as exc:  # an expression saved around clean()
            plans[rule.pk] = exc
    answers = _ask({q for plan in plans.values() if isinstance(plan, _Plan) for q in plan.queries()}, at)
    results = []
    for rule in rules:
        try:
            plan = plans[rule.pk]
            if isinstance(plan, ExpressionError):
                raise plan
            results.append(_settle(rule, plan, answers, at, maintenance))
        except (VictoriaError, ExpressionError) as exc:  # VM down or refusing the query
            logger.warning("alert rule %r not evaluated: %s", rule.name, exc)
            results.append(RuleResult(rule.name, error=str(exc)))
    return results


def evaluate_rule(rule: AlertRule, at: datetime, includers: dict[int, set[int]] | None = None) -> RuleResult:
    """Query VictoriaMetrics for the rule at `at` and move its alerts through their states."""
    maintenance = Maintenance.at(at)
    plan = _plan(rule, template_includers() if includers is None else includers, maintenance)
    return _settle(rule, plan, _ask(set(plan.queries()), at), at, maintenance)


@dataclass(frozen=True)
class _Check:
    """One variant of a rule: its condition's query, its recovery query ("" if none) and the devices it covers."""

    variant: _Variant
    hold: timedelta
    condition: str
    recovery: str
    covers: Callable[[int | None], bool]


@dataclass(frozen=True)
class _Plan:
    devices: frozenset[int] | None  # the rule's scope; None: every device
    checks: list[_Check]

    def queries(self) -> list[str]:
        return [q for check in self.checks for q in (check.condition, check.recovery) if q]


def _plan(rule: AlertRule, includers: dict[int, set[int]], maintenance: Maintenance) -> _Plan:
    """What to ask VictoriaMetrics for the rule: nothing when no device is in its scope."""
    devices = scope(rule, includers)
    checks = []
    for variant in _variants(rule, devices) if devices != set() else []:
        condition = parse(variant.expression)
        recovery = (to_metricsql(parse(variant.recovery)) if variant.recovery.strip() else recovery_metricsql(condition))
        checks.append(_Check(variant, timedelta(seconds=held_for(condition) or rule.for_seconds or 0),
                             to_metricsql(condition), recovery or "",
                             functools.partial(_evaluated, variant, maintenance)))
    return _Plan(devices, checks)


def _ask(queries: set[str], at: datetime) -> dict[str, list[dict] | VictoriaError]:
    """Each distinct query's rows, or the error VictoriaMetrics gave (rules sharing a query share its answer)."""
    def ask(query: str) -> list[dict] | VictoriaError:
        try:
            return get_client().query(query, at=at.timestamp())
        except VictoriaError as exc:
            return exc

    return {query: ask(query) for query in sorted(queries)}


def _rows(answers: dict[str, list[dict] | VictoriaError], query: str) -> list[dict]:
    rows = answers[query]
    if isinstance(rows, VictoriaError):
        raise rows
    return rows


def _settle(rule: AlertRule, plan: _Plan, answers: dict[str, list[dict] | VictoriaError], at: datetime,
            maintenance: Maintenance) -> RuleResult:
    """Move the rule's alerts through their states by what VictoriaMetrics answered."""
    holding, recovered, needs_recovery = {}, set(), set()
    for check in plan.checks:
        for fingerprint, (labels, value) in _series(_rows(answers, check.condition), check.covers).items():
            holding[fingerprint] = (labels, value, check.hold)
        if check.recovery:
            recovered |= set(_series(_rows(answers, check.recovery), check.covers))
            needs_recovery.add(check.variant)
    result = RuleResult(rule.name, holding=len(holding))
    reachability = metrics(parse(rule.expression)) <= REACHABILITY_METRICS
    open_alerts = {a.fingerprint: a for a in
                   Alert.objects.filter(rule=rule, status__in=AlertStatus.open()).select_related("device__parent")}
    if missing := {fp: series for fp, series in holding.items() if fp not in open_alerts}:
        open_alerts |= _open(rule, missing, at)
    seen = [open_alerts[fp] for fp in holding if fp in open_alerts]
    _seen_now({alert.pk: holding[alert.fingerprint][1] for alert in seen}, at)
    fired = _fired(rule, [a.fingerprint for a in seen if a.status == AlertStatus.PENDING or a.suppressed_by], at)
    for fingerprint, (labels, value, hold) in holding.items():
        alert = open_alerts.pop(fingerprint, None)
        if alert is None:
            continue  # another evaluator opened and closed it within this cycle
        if alert.status == AlertStatus.PENDING and at - alert.pending_since >= hold:
            flaps = flapping(fired.get(fingerprint, 0) + 1)  # counting this firing
            reason = maintenance.reason(alert.device_id) or suppression(alert.device, reachability, at) or flaps
            if _claim(alert, AlertStatus.PENDING, status=AlertStatus.FIRING, triggered_at=at, notified_at=at,
                      severity=rule.severity, suppressed_by=reason):
                if not reason:
                    result.events.append(Event("firing", alert.pk))
                elif reason == flaps and not _was_flapping(rule, fingerprint, alert, at):
                    result.events.append(Event("flapping", alert.pk))  # once, instead of a stream
        elif alert.status == AlertStatus.FIRING and alert.suppressed_by:
            still = (maintenance.reason(alert.device_id) or suppression(alert.device, reachability, at)
                     or flapping(fired.get(fingerprint, 0)))
            if not still and Alert.objects.filter(pk=alert.pk, suppressed_by=alert.suppressed_by).update(
                    suppressed_by="", notified_at=at):
                result.events.append(Event("firing", alert.pk))  # the cause is gone, the problem is not: tell
        elif alert.status == AlertStatus.FIRING and alert.acknowledged_at is None:
            result.events += _reminders(rule, alert, at)
    for fingerprint, alert in open_alerts.items():  # no longer holding (or out of scope)
        waits_for_recovery = any(v.covers(alert.device_id) for v in needs_recovery) and fingerprint not in recovered
        if alert.status == AlertStatus.PENDING:
            Alert.objects.filter(pk=alert.pk, status=AlertStatus.PENDING).delete()
        elif (not waits_for_recovery or _gone(alert, plan.devices)) and _claim(
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


def _open(rule: AlertRule, series: dict[str, tuple[dict[str, str], float, timedelta]], at: datetime
          ) -> dict[str, Alert]:
    """Pending alerts for new series, in one INSERT; the one-open-alert constraint skips those another evaluator
    opened a moment ago (theirs are returned then)."""
    ids = {fp: int(labels["device_id"]) for fp, (labels, _, _) in series.items()
           if labels.get("device_id", "").isdigit()}
    known = set(Device.objects.filter(pk__in=set(ids.values())).values_list("pk", flat=True))
    Alert.objects.bulk_create(
        [Alert(rule=rule, fingerprint=fp, labels=labels, severity=rule.severity, value=value, first_value=value,
               pending_since=at, last_seen_at=at, device_id=ids[fp] if ids.get(fp) in known else None)
         for fp, (labels, value, _) in series.items()], ignore_conflicts=True, batch_size=1000)
    return {a.fingerprint: a for a in Alert.objects.filter(rule=rule, fingerprint__in=list(series),
                                                           status__in=AlertStatus.open()).select_related("device__parent")}


def _seen_now(values: dict[int, float], at: datetime) -> None:
    """Store the latest value and last-seen time of many alerts in one UPDATE ... FROM (VALUES ...) statement
    (PostgreSQL, SQLite 3.33+): Django's bulk_update builds a CASE per row, ten times slower here."""
    table = connection.ops.quote_name(Alert._meta.db_table)
    items = list(values.items())
    for start in range(0, len(items), 1000):
        chunk = items[start:start + 1000]
        rows = ", ".join(["(%s, %s)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(f"WITH v(id, value) AS (VALUES {rows}) UPDATE {table} SET value = v.value, "
                           f"last_seen_at = %s FROM v WHERE {table}.id = v.id",
                           [*itertools.chain.from_iterable(chunk), connection.ops.adapt_datetimefield_value(at)])


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


def _fired(rule: AlertRule, fingerprints: list[str], at: datetime) -> dict[str, int]:
    """How often each series' alert fired within FLAP_WINDOW_MINUTES before `at` (one query for all of them)."""
    if not fingerprints:
        return {}
    window = timedelta(minutes=settings.FLAP_WINDOW_MINUTES)
    return dict(Alert.objects.filter(rule=rule, fingerprint__in=fingerprints, triggered_at__gt=at - window,
                                     triggered_at__lte=at).values_list("fingerprint").annotate(n=Count("pk")))


def flapping(fired: int) -> str:
    """Why a series that fired this often within FLAP_WINDOW_MINUTES flaps (FLAP_THRESHOLD times or more); "" if
    it does not."""
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
