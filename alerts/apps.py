from datetime import datetime

from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save
from django.http import HttpRequest

from wardsite.setup_checks import Pending, add_link, change_link, register


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from django.conf import settings

        from alerts import dashboard, metrics
        from alerts.notifications import claims, load_channels
        from devices.signals import state_changed
        from templates_app.models import TemplateTrigger
        from wardsite import heartbeats, retention, self_metrics

        load_channels()
        dashboard.register_panels()
        post_save.connect(_trigger_saved, sender=TemplateTrigger, dispatch_uid="alerts.trigger_rule")
        post_migrate.connect(_every_trigger_has_a_rule, sender=self, dispatch_uid="alerts.trigger_rules")
        post_migrate.connect(_builtin_rules, sender=self, dispatch_uid="alerts.builtin_rules")
        state_changed.connect(_state_changed, dispatch_uid="alerts.evaluate_soon")
        register(_device_down_tells_nobody)
        heartbeats.watch("alerts", "alert evaluation", lambda: settings.ALERT_EVALUATION_SECONDS)
        retention.register("deliveries", "RETENTION_DELIVERIES_DAYS", _prune_deliveries)
        retention.register("delivery claims", "RETENTION_DELIVERIES_DAYS", claims.prune)
        retention.register("resolved alerts", "RETENTION_RESOLVED_ALERTS_DAYS", _prune_resolved_alerts)
        self_metrics.register(metrics.collect)


def _device_down_tells_nobody(request: HttpRequest) -> Pending | None:
    """Setup checklist: the built-in Device down rule is on but has no channel to tell anyone on."""
    from alerts.models import AlertRule, NotificationChannel

    rule = AlertRule.objects.filter(builtin="device-down", enabled=True).first()
    if rule is None or rule.channels.filter(enabled=True).exists():
        return None
    links = ()
    if not NotificationChannel.objects.filter(enabled=True).exists():
        links += add_link(request, NotificationChannel, "Add a notification channel")
    links += change_link(request, rule, "Choose the rule's channels")
    return Pending("The built-in Device down rule has no notification channel: nobody is told when a device "
                   "goes down.", links)


def _state_changed(sender, **kwargs) -> None:
    """A device went down or came back: evaluate now rather than at the next tick."""
    from alerts.tasks import evaluate_soon

    evaluate_soon()


def _trigger_saved(sender, instance, **kwargs) -> None:
    """Every template trigger has its alert rule (deleting the trigger deletes the rule)."""
    from alerts.services import sync_trigger_rule

    sync_trigger_rule(instance)


def _every_trigger_has_a_rule(**kwargs) -> None:
    """Triggers saved before alert rules existed (or by bulk_create) get theirs."""
    from alerts.services import sync_trigger_rule
    from templates_app.models import TemplateTrigger

    for trigger in TemplateTrigger.objects.filter(rule__isnull=True).select_related("template"):
        sync_trigger_rule(trigger)


def _prune_deliveries(cutoff: datetime) -> int:
    from alerts.models import Delivery

    return Delivery.objects.filter(created_at__lt=cutoff).delete()[1].get("alerts.Delivery", 0)


def _prune_resolved_alerts(cutoff: datetime) -> int:
    """Alerts resolved before `cutoff`, with their deliveries."""
    from alerts.choices import AlertStatus
    from alerts.models import Alert

    old = Alert.objects.filter(status=AlertStatus.RESOLVED, resolved_at__lt=cutoff)
    return old.delete()[1].get("alerts.Alert", 0)


def _builtin_rules(**kwargs) -> None:
    from alerts.services import ensure_builtin_rules

    ensure_builtin_rules()
