"""The shipped rules and the rules of template triggers; acknowledging, resolving and notifying."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from django.contrib.auth.models import User
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.utils import timezone

from alerts.choices import AlertStatus, DeliveryEvent
from alerts.engine import Event
from alerts.models import Alert, AlertRule, Delivery, NotificationChannel
from alerts.notifications import claims, delivery
from alerts.notifications.message import Message
from devices.services import STATE_METRIC
from templates_app.choices import Severity
from templates_app.models import TemplateTrigger
from wardsite import heartbeats

logger = logging.getLogger(__name__)


BUILTIN_RULES = {
    "device-down": dict(
        name="Device down", expression=f"{STATE_METRIC} == 0", severity=Severity.CRITICAL,
        description="The device stopped answering: ICMP_DOWN_AFTER ping cycles in a row failed (SNMP timeouts for a "
                    "device that is not pinged). Suppressed while a device it depends on (parent) is down. Add "
                    "channels to be told."),
    "collection-stopped": dict(
        name="Collection stopped", expression=f"{heartbeats.STOPPED_METRIC} == 1 for 1m", severity=Severity.HIGH,
        description="A loop of WARD FLUX itself stopped (label loop: icmp, snmp, alerts or beat): no cycle for "
                    "HEALTH_STALE_SECONDS or three intervals, so devices are not being watched. See /healthz and "
                    "docs/operations.md. If beat or every worker stops, nothing here can tell you: watch /healthz "
                    "from outside too. Add channels to be told."),
}


def most_severe_first(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """Alerts ordered most severe first (templates_app.choices.Severity's order), then newest, then by id: in the
    database, so pages of it follow one another."""
    rank = Case(*(When(severity=severity, then=Value(n)) for n, severity in enumerate(Severity.values)),
                default=Value(len(Severity.values)), output_field=IntegerField())
    return alerts.order_by(rank, F("triggered_at").desc(nulls_last=True), "-pk")


def ensure_builtin_rules() -> None:
    """Create the shipped rules that are missing; what an operator changed on them is kept."""
    for key, fields in BUILTIN_RULES.items():
        if not AlertRule.objects.filter(builtin=key).exists():
            taken = AlertRule.objects.filter(name=fields["name"]).exists()  # an operator's rule of that name
            AlertRule.objects.create(builtin=key, **{**fields, "name": f"{fields['name']} (built-in)" if taken
                                                     else fields["name"]})


class RemoteRefused(Exception):
    """The alert's source (a Zabbix server) refused, or could not be asked: nothing changed here."""


class RemoteSource(Protocol):
    """What the app owning an alert source (the Zabbix bridge) does when people act on its alerts here."""

    def acknowledge(self, alerts: list[Alert], user: User, comment: str) -> None: ...

    def close(self, alerts: list[Alert], user: User) -> None: ...


# AlertSource value -> its RemoteSource; filled by the owning app in its ready() (alerts cannot import it)
remote_sources: dict[str, RemoteSource] = {}


def _tell_sources(alerts: QuerySet[Alert], act: Callable[[RemoteSource, list[Alert]], None]) -> None:
    """Ask each remote source to act on its alerts among `alerts` first; RemoteRefused stops everything."""
    for source, handler in remote_sources.items():
        theirs = list(alerts.filter(source=source).select_related("device"))
        if theirs:
            act(handler, theirs)


def acknowledge(alerts: QuerySet[Alert], user: User, comment: str = "") -> int:
    """Acknowledge the open, unacknowledged alerts among `alerts`; returns how many. An alert of another source
    is acknowledged there first (a Zabbix problem: event.acknowledge); if it refuses, RemoteRefused and nothing
    changes."""
    alerts = alerts.filter(status__in=AlertStatus.open(), acknowledged_at__isnull=True)
    _tell_sources(alerts, lambda source, theirs: source.acknowledge(theirs, user, comment))
    return alerts.update(acknowledged_at=timezone.now(), acknowledged_by=user, acknowledgement=comment)


def resolve(alerts: QuerySet[Alert], user: User | None = None) -> int:
    """Resolve firing alerts by hand (the condition may still hold: it fires again on the next evaluation). An
    alert of another source is closed there first (Zabbix closes a problem only if its trigger allows it)."""
    alerts = alerts.filter(status=AlertStatus.FIRING)
    _tell_sources(alerts, lambda source, theirs: source.close(theirs, user))
    return alerts.update(status=AlertStatus.RESOLVED, resolved_at=timezone.now())


def deliveries_for(events: list[Event]) -> list[tuple[int, int, str]]:
    """(alert id, channel id, event) for every enabled channel the event goes to: the rule's channels, and for an
    escalation its escalation channels."""
    alerts = Alert.objects.select_related("rule", "device").in_bulk([event.alert_id for event in events])
    found = []
    for event in events:
        alert = alerts[event.alert_id]
        channels = alert.rule.escalation_channels if event.kind == DeliveryEvent.ESCALATION else alert.rule.channels
        ids = list(channels.filter(enabled=True).values_list("pk", flat=True))
        if ids:
            logger.info("alert %s: %s (%d channels)", event.kind, alert, len(ids))
        else:
            logger.warning("alert %s: %s - nobody is told: rule %r has no enabled channel", event.kind, alert,
                           alert.rule.name)
        found += [(event.alert_id, pk, event.kind) for pk in ids]
    return found


def send_notification(alert_id: int, channel_id: int, event: str, *, attempt: int = 1,
                      last_attempt: bool = True, task_id: str = "") -> Delivery | None:
    """Deliver one alert event on one channel now and record the attempt.

    With the `task_id` of the Celery task queued for it, the notification is claimed first and sent once however
    often the task is delivered (claims.py): None when there was nothing left to send, ClaimBusy while another
    worker sends it.
    """
    alert = Alert.objects.select_related("rule", "device").get(pk=alert_id)
    channel = NotificationChannel.objects.get(pk=channel_id)
    claim = claims.take(claims.Key(alert_id, channel_id, event, task_id), attempt) if task_id else None
    if task_id and claim is None:
        logger.info("%s notification of alert %s via %s: already handled, not sent again", event, alert_id,
                    channel.name)
        return None
    record = delivery.deliver(channel, Message.of(alert, event), attempt=attempt, last_attempt=last_attempt)
    if claim is not None:
        claims.mark(claim, record.status)
    return record


def send_test(channel: NotificationChannel) -> Delivery:
    """A test notification on the channel, sent now (the admin's "send test notification")."""
    return delivery.deliver(channel, Message.test(channel.name))


def sync_trigger_rule(trigger: TemplateTrigger) -> AlertRule:
    """The alert rule of a template trigger, created or brought in line with it.

    The condition, severity and description follow the trigger; what the operator set on the rule (enabled,
    channels, repeat, escalation, extra scope, per-device overrides) is kept. Its scope is the trigger's template,
    which covers the devices that template, or one including it, is applied to.
    """
    rule = AlertRule.objects.filter(template_trigger=trigger).first() or AlertRule(template_trigger=trigger)
    rule.name = f"{trigger.template.name}: {trigger.name}"[:200]
    rule.expression, rule.recovery_expression = trigger.expression, trigger.recovery_expression
    rule.for_seconds = trigger.for_seconds or None
    rule.severity, rule.description = trigger.severity, trigger.description
    rule.save()
    rule.templates.add(trigger.template)
    return rule
