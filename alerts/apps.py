from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from templates_app.models import TemplateTrigger

        post_save.connect(_trigger_saved, sender=TemplateTrigger, dispatch_uid="alerts.trigger_rule")
        post_migrate.connect(_every_trigger_has_a_rule, sender=self, dispatch_uid="alerts.trigger_rules")


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
