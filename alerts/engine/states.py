"""The alert state machine: what one evaluation of a rule does to each of its open alerts, as a table.

    status    series holds  when                                then
    pending   yes           held for the rule's duration        fire: firing; told ("firing"), or suppressed
                                                                 (a flapping series is told "flapping" once)
    pending   no            -                                   forget: deleted, it never fired
    firing    yes           suppressed                          if the cause is gone: told ("firing")
    firing    yes           unacknowledged                      remind: "repeat", and "escalation" once
    firing    no            recovered, or out of scope          resolve; told ("resolved") unless suppressed

The first row that matches applies; when none does (pending not yet long enough, firing and acknowledged, firing
until its recovery expression holds) the alert stays as it is. A series that holds without an open alert gets a
pending one first. Each transition is one conditional UPDATE (or an INSERT guarded by the one-open-alert
constraint), so when several workers evaluate at once exactly one of them makes it and reports the event.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count

from alerts.choices import AlertStatus, Suppression
from alerts.engine.plan import Answers, Plan, Variant, rows, series
from alerts.engine.suppression import Maintenance, Suppressed, columns, device_suppression, flapping, was_flapping
from alerts.models import Alert, AlertRule
from devices.models import Device
from devices.services import STATE_METRIC
from wardsite.expressions import metrics, parse

# A rule on these alone is about the device being down: its own state does not suppress it (a parent's does).
REACHABILITY_METRICS = frozenset({STATE_METRIC})
Holding = tuple[dict[str, str], float, timedelta]  # a series' labels, its value now, how long it must hold


@dataclass(frozen=True)
class Event:
    """A transition that people must hear about."""

    kind: str  # firing, resolved, repeat (still firing, unacknowledged), escalation or flapping
    alert_id: int


@dataclass
class RuleResult:
    """What one evaluation of one rule found and did."""

    rule: str
    holding: int = 0  # series for which the condition holds now
    events: list[Event] = field(default_factory=list)
    error: str = ""


@dataclass
class Cycle:
    """What one evaluation of one rule saw: the series that hold, those recovered, and what transitions ask."""

    rule: AlertRule
    at: datetime
    plan: Plan
    maintenance: Maintenance
    holding: dict[str, Holding]  # by fingerprint
    recovered: set[str]  # fingerprints for which a recovery query holds
    awaiting_recovery: list[Variant]  # the variants with a recovery query
    reachability: bool  # the rule is about devices being down: their own state does not suppress it
    fired: dict[str, int] = field(default_factory=dict)  # recent firings of the series that may fire or flap

    def suppressed(self, alert: Alert, fired: int) -> Suppressed | None:
        """Why nobody is told of the alert now (a series that fired `fired` times lately), None if they are."""
        return (self.maintenance.suppression(alert.device_id)
                or device_suppression(alert.device, self.reachability, self.at) or flapping(fired))


def settle(rule: AlertRule, plan: Plan, answers: Answers, at: datetime, maintenance: Maintenance) -> RuleResult:
    """Move the rule's alerts through their states by what VictoriaMetrics answered."""
    cycle = _observe(rule, plan, answers, at, maintenance)
    result = RuleResult(rule.name, holding=len(cycle.holding))
    open_alerts = _open_alerts(cycle)
    for fingerprint in cycle.holding:
        alert = open_alerts.pop(fingerprint, None)
        if alert is not None:  # None: another evaluator opened and closed it within this cycle
            result.events += step(cycle, alert, holding=True)
    for alert in open_alerts.values():  # no longer holding (or out of scope)
        result.events += step(cycle, alert, holding=False)
    return result


# --- the transitions ------------------------------------------------------------------------------------------------

def _held_long_enough(cycle: Cycle, alert: Alert) -> bool:
    return cycle.at - alert.pending_since >= cycle.holding[alert.fingerprint][2]


def _always(cycle: Cycle, alert: Alert) -> bool:
    return True


def _is_suppressed(cycle: Cycle, alert: Alert) -> bool:
    return bool(alert.suppression)


def _unacknowledged(cycle: Cycle, alert: Alert) -> bool:
    return alert.acknowledged_at is None


def _recovered(cycle: Cycle, alert: Alert) -> bool:
    """No recovery expression covers it, or one holds for it; or its device left the rule's scope."""
    waits = (any(variant.covers(alert.device_id) for variant in cycle.awaiting_recovery)
             and alert.fingerprint not in cycle.recovered)
    return not waits or _gone(alert, cycle.plan.devices)


def _fire(cycle: Cycle, alert: Alert) -> list[Event]:
    why = cycle.suppressed(alert, cycle.fired.get(alert.fingerprint, 0) + 1)  # counting this firing
    if not _claim(alert, AlertStatus.PENDING, status=AlertStatus.FIRING, triggered_at=cycle.at, notified_at=cycle.at,
                  severity=cycle.rule.severity, **columns(why)):
        return []
    if why is None:
        return [Event("firing", alert.pk)]
    if why.reason == Suppression.FLAPPING and not was_flapping(cycle.rule, alert, cycle.at):
        return [Event("flapping", alert.pk)]  # once, instead of a stream
    return []


def _forget(cycle: Cycle, alert: Alert) -> list[Event]:
    Alert.objects.filter(pk=alert.pk, status=AlertStatus.PENDING).delete()
    return []


def _tell_if_cause_gone(cycle: Cycle, alert: Alert) -> list[Event]:
    if cycle.suppressed(alert, cycle.fired.get(alert.fingerprint, 0)) is not None:
        return []
    told = Alert.objects.filter(pk=alert.pk, suppression=alert.suppression,
                                suppression_detail=alert.suppression_detail).update(notified_at=cycle.at, **columns(None))
    return [Event("firing", alert.pk)] if told else []  # the cause is gone, the problem is not: tell


def _remind(cycle: Cycle, alert: Alert) -> list[Event]:
    """Repeat and escalation events due for a firing, unacknowledged alert (each claimed, so sent once)."""
    rule, at, events = cycle.rule, cycle.at, []
    last = alert.notified_at or alert.triggered_at
    if rule.repeat_minutes and at - last >= timedelta(minutes=rule.repeat_minutes):
        if Alert.objects.filter(pk=alert.pk, notified_at=alert.notified_at).update(notified_at=at):
            events.append(Event("repeat", alert.pk))
    escalate = rule.escalate_after_minutes
    if escalate and alert.escalated_at is None and at - alert.triggered_at >= timedelta(minutes=escalate):
        if Alert.objects.filter(pk=alert.pk, escalated_at__isnull=True).update(escalated_at=at):
            events.append(Event("escalation", alert.pk))
    return events


def _resolve(cycle: Cycle, alert: Alert) -> list[Event]:
    if not _claim(alert, AlertStatus.FIRING, status=AlertStatus.RESOLVED, resolved_at=cycle.at) or alert.suppression:
        return []  # a suppressed alert was never told, so neither is this
    return [Event("resolved", alert.pk)]


Condition = Callable[[Cycle, Alert], bool]
Transition = Callable[[Cycle, Alert], list[Event]]
TRANSITIONS: tuple[tuple[str, bool, Condition, Transition], ...] = (
    # status              series holds  when                then
    (AlertStatus.PENDING, True,         _held_long_enough,  _fire),
    (AlertStatus.PENDING, False,        _always,            _forget),
    (AlertStatus.FIRING,  True,         _is_suppressed,     _tell_if_cause_gone),
    (AlertStatus.FIRING,  True,         _unacknowledged,    _remind),
    (AlertStatus.FIRING,  False,        _recovered,         _resolve),
)


def step(cycle: Cycle, alert: Alert, *, holding: bool) -> list[Event]:
    """Apply the first transition that matches the alert (see the table above); the events people must hear of."""
    for status, holds, when, then in TRANSITIONS:
        if alert.status == status and holding == holds and when(cycle, alert):
            return then(cycle, alert)
    return []


# --- what every cycle does for all of a rule's alerts at once -------------------------------------------------------

def _observe(rule: AlertRule, plan: Plan, answers: Answers, at: datetime, maintenance: Maintenance) -> Cycle:
    """The series for which the rule's condition holds, and those its recovery queries find, by fingerprint."""
    holding: dict[str, Holding] = {}
    recovered: set[str] = set()
    awaiting: list[Variant] = []
    for check in plan.checks:
        for fingerprint, (labels, value) in series(rows(answers, check.condition), check.covers).items():
            holding[fingerprint] = (labels, value, check.hold)
        if check.recovery:
            recovered |= set(series(rows(answers, check.recovery), check.covers))
            awaiting.append(check.variant)
    reachability = metrics(parse(rule.expression)) <= REACHABILITY_METRICS
    return Cycle(rule, at, plan, maintenance, holding, recovered, awaiting, reachability)


def _open_alerts(cycle: Cycle) -> dict[str, Alert]:
    """The rule's open alerts by fingerprint, a pending one opened for each series that holds without one; the
    latest value of those that hold stored, and how often the ones that may fire or flap fired lately counted."""
    rule, holding = cycle.rule, cycle.holding
    open_alerts = {a.fingerprint: a for a in
                   Alert.objects.filter(rule=rule, status__in=AlertStatus.open()).select_related("device__parent")}
    if missing := {fp: found for fp, found in holding.items() if fp not in open_alerts}:
        open_alerts |= _open(rule, missing, cycle.at)
    seen = [open_alerts[fp] for fp in holding if fp in open_alerts]
    _seen_now({alert.pk: holding[alert.fingerprint][1] for alert in seen}, cycle.at)
    cycle.fired = _fired(rule, [a.fingerprint for a in seen if a.status == AlertStatus.PENDING or a.suppression],
                         cycle.at)
    return open_alerts


def _open(rule: AlertRule, found: dict[str, Holding], at: datetime) -> dict[str, Alert]:
    """Pending alerts for new series, in one INSERT; the one-open-alert constraint skips those another evaluator
    opened a moment ago (theirs are returned then)."""
    ids = {fp: int(labels["device_id"]) for fp, (labels, _, _) in found.items()
           if labels.get("device_id", "").isdigit()}
    known = set(Device.objects.filter(pk__in=set(ids.values())).values_list("pk", flat=True))
    Alert.objects.bulk_create(
        [Alert(rule=rule, fingerprint=fp, labels=labels, severity=rule.severity, value=value, first_value=value,
               pending_since=at, last_seen_at=at, device_id=ids[fp] if ids.get(fp) in known else None)
         for fp, (labels, value, _) in found.items()], ignore_conflicts=True, batch_size=1000)
    return {a.fingerprint: a for a in Alert.objects.filter(rule=rule, fingerprint__in=list(found),
                                                           status__in=AlertStatus.open()).select_related("device__parent")}


def _seen_now(values: dict[int, float], at: datetime) -> None:
    """Store the latest value and last-seen time of many alerts in one UPDATE ... FROM (VALUES ...) statement
    (PostgreSQL, SQLite 3.33+): Django's bulk_update builds a CASE per row, ten times slower here."""
    table = connection.ops.quote_name(Alert._meta.db_table)
    items = list(values.items())
    for start in range(0, len(items), 1000):
        chunk = items[start:start + 1000]
        values_rows = ", ".join(["(%s, %s)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(f"WITH v(id, value) AS (VALUES {values_rows}) UPDATE {table} SET value = v.value, "
                           f"last_seen_at = %s FROM v WHERE {table}.id = v.id",
                           [*itertools.chain.from_iterable(chunk), connection.ops.adapt_datetimefield_value(at)])


def _claim(alert: Alert, current: str, **changes) -> bool:
    """Apply `changes` if the alert is still in state `current`; True for the one caller that did."""
    return Alert.objects.filter(pk=alert.pk, status=current).update(**changes) == 1


def _fired(rule: AlertRule, fingerprints: list[str], at: datetime) -> dict[str, int]:
    """How often each series' alert fired within FLAP_WINDOW_MINUTES before `at` (one query for all of them)."""
    if not fingerprints:
        return {}
    window = timedelta(minutes=settings.FLAP_WINDOW_MINUTES)
    return dict(Alert.objects.filter(rule=rule, fingerprint__in=fingerprints, triggered_at__gt=at - window,
                                     triggered_at__lte=at).values_list("fingerprint").annotate(n=Count("pk")))


def _gone(alert: Alert, devices: frozenset[int] | None) -> bool:
    """The alert's device left the rule's scope or was deleted: it resolves whatever the recovery says."""
    return (devices is not None and alert.device_id not in devices) or (
        alert.device_id is None and "device_id" in alert.labels)
